"""Figures of runs' evolution (matplotlib without pyplot: no global state, no GUI backend).

Each ``plot_*`` function takes what the Store returns (one run, or a dict ``{run: data}`` to
overlay runs) and gives back a :class:`NotebookFigure`, which a notebook displays inline without
``%matplotlib inline``; :func:`plot_runs` writes them all (PNG, PDF or SVG).

Conventions: every series has its own (colour, line style, marker) triple, so eleven or more
lines stay distinguishable; each statistic is named with its null model (``Z (switching)``); null
means are dashed with a band of one null SD; Z-score axes carry |Z| = 2 guide lines; one figure
per statistic family.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sparsetopo.errors import InputError, MissingExtraError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sparsetopo.api.store import Store

__all__ = [
    "FORMATS",
    "families",
    "figures",
    "motif_family",
    "plot_balance",
    "plot_nnstd",
    "plot_null_bands",
    "plot_run",
    "plot_runs",
    "plot_turnover",
    "plot_zscores",
    "series_style",
]

FORMATS = ("png", "pdf", "svg")
_STYLES = ("-", "--", ":", "-.")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*", "h")
#: Colour-blind-safe qualitative palette (Okabe & Ito 2008) plus four more distinct hues.
_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
            "#F0E442", "#882255", "#44AA99", "#999933", "#AA4499")
#: FFL-balance keys, old and new names of the null-model statistics (nulls rework).
_FFL_NULL_KEYS = ("ffl_balance_null", "ffl_balance_null_mean")
_FFL_Z_KEYS = ("ffl_balance_z", "ffl_balance_z_sign_shuffle")


def series_style(i: int) -> dict[str, Any]:
    """Return the i-th series' colour, line style and marker.

    Parameters
    ----------
    i : int
        Index of the series (>= 0).

    Returns
    -------
    dict
        Keyword arguments for ``Axes.plot`` (color, linestyle, marker, markersize). No two of
        the first 48 series share all three of colour, line style and marker, and the first 12
        have distinct colours.
    """
    return {"color": _COLOURS[i % len(_COLOURS)],
            "linestyle": _STYLES[(i // len(_COLOURS)) % len(_STYLES)],
            "marker": _MARKERS[i % len(_MARKERS)], "markersize": 3.5}


@lru_cache(maxsize=1)
def _figure_class() -> type:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "plots", "plotting") from exc

    class NotebookFigure(Figure):
        """A matplotlib Figure that Jupyter shows inline (``_repr_png_``) without pyplot."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    return NotebookFigure


def _figure(width: float = 7.0, height: float = 4.0, nrows: int = 0, ncols: int = 0,
            ) -> tuple[Figure, Any]:
    """Create a figure with one axes, or an (nrows x ncols) array of them for a grid."""
    fig = _figure_class()(figsize=(width, height), dpi=110, layout="constrained")
    if not nrows:
        return fig, fig.add_subplot()
    return fig, fig.subplots(nrows, ncols, squeeze=False, sharex=True)


def _runs(data: pd.DataFrame | Mapping[str, pd.DataFrame], run: str) -> dict[str, pd.DataFrame]:
    if isinstance(data, Mapping):
        return dict(data)
    return {run: data}


def _first(df: pd.DataFrame, keys: Sequence[str]) -> str | None:
    for key in keys:
        if key in df and df[key].notna().any():
            return key
    return None


def _label(run: str, what: str, several: bool) -> str:
    return f"{run}: {what}" if several else what


def plot_balance(history: pd.DataFrame | Mapping[str, pd.DataFrame], run: str = "") -> Figure:
    """Plot balance ratios over steps with the FFL sign-shuffle null.

    The series are FFL balance (pooled and paper), triangle and 4-cycle balance, with the FFL
    sign-shuffle null mean (dashed) and a band of one null SD, and sparsity on the right axis.

    Parameters
    ----------
    history : DataFrame or dict of DataFrame
        :meth:`Store.history` of one run (indexed by step), or ``{run: history}`` to overlay.
    run : str
        Name for the title when one history is given.

    Returns
    -------
    NotebookFigure
        The figure (shown inline by Jupyter).
    """
    runs = _runs(history, run)
    several = len(runs) > 1
    fig, ax = _figure()
    ax2 = None
    i = 0
    for name, h in runs.items():
        series = {"ffl_balance": "FFL balance (pooled)", "ffl_balance_paper": "FFL balance (paper)",
                  "cycle4_balance": "4-cycle balance"}
        for col, label in series.items():
            if col in h and h[col].notna().any():
                ax.plot(h.index, h[col].astype(float), label=_label(name, label, several),
                        **series_style(i))
                i += 1
        if "triangle_unbalanced_fraction" in h and h["triangle_unbalanced_fraction"].notna().any():
            ax.plot(h.index, 1 - h["triangle_unbalanced_fraction"].astype(float),
                    label=_label(name, "triangle balance", several), **series_style(i))
            i += 1
        null_key = _first(h, _FFL_NULL_KEYS)
        if null_key is not None:
            mean = h[null_key].astype(float)
            style = series_style(i)
            ax.plot(h.index, mean, color=style["color"], linestyle="--",
                    label=_label(name, "FFL balance, sign-shuffle null mean ± 1 SD", several))
            sd = _null_sd(h, null_key)
            if sd is not None:
                ax.fill_between(h.index, mean - sd, mean + sd, color=style["color"], alpha=0.2,
                                linewidth=0)
            i += 1
        if "sparsity" in h and h["sparsity"].notna().any():
            ax2 = ax2 or ax.twinx()
            ax2.plot(h.index, h["sparsity"].astype(float), color="grey", alpha=0.7,
                     linestyle=_STYLES[len(ax2.lines) % len(_STYLES)],
                     label=_label(name, "sparsity (right axis)", several))
    ax.set_xlabel("step")
    ax.set_ylabel("balance ratio")
    handles, labels = ax.get_legend_handles_labels()
    if ax2 is not None:
        ax2.set_ylabel("sparsity", color="grey")
        ax2.set_ylim(0, 1)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if handles:
        ax.legend(handles, labels, loc="best", fontsize="small")
    ax.set_title(f"{_title(runs)}: balance and sparsity")
    return fig


def _null_sd(h: pd.DataFrame, null_key: str) -> pd.Series | None:
    """Return the FFL null SD: stored (``*_null_sd``), else (observed - null mean) / Z."""
    for key in ("ffl_balance_null_sd", null_key + "_sd"):
        if key in h and h[key].notna().any():
            return h[key].astype(float)
    z_key = _first(h, _FFL_Z_KEYS)
    if z_key is None or "ffl_balance" not in h:
        return None
    z = h[z_key].astype(float).replace(0.0, np.nan)
    sd = ((h["ffl_balance"].astype(float) - h[null_key].astype(float)) / z).abs()
    return sd if sd.notna().any() else None


def _title(runs: Mapping[str, Any]) -> str:
    return " vs ".join(runs) if runs else ""


def motif_family(name: str) -> str:
    """Return the family of a stored motif statistic.

    Parameters
    ----------
    name : str
        The statistic's name as stored (the ``motif`` column of :meth:`Store.motifs`).

    Returns
    -------
    str
        "triads" (MAN codes such as 030T), "balance" (names with "balance" or "unbalanced"),
        "signed" (signed triads/dyads), else "motifs".

    Examples
    --------
    >>> motif_family("030T"), motif_family("ffl_balance_pooled"), motif_family("030T:++-")
    ('triads', 'balance', 'signed')
    """
    if re.fullmatch(r"\d{3}[A-Z]?", name):
        return "triads"
    if "balance" in name or "unbalanced" in name:
        return "balance"
    if re.match(r"\d{3}[A-Z]?[_:+-]", name) or name.startswith(("dyad", "signed")):
        return "signed"
    return "motifs"


def families(motifs: pd.DataFrame | Mapping[str, pd.DataFrame]) -> list[str]:
    """Return the motif families present in one or several :meth:`Store.motifs` tables.

    Parameters
    ----------
    motifs : DataFrame or dict of DataFrame
        One table, or ``{run: table}``.

    Returns
    -------
    list of str
        The families (:func:`motif_family`) in sorted order.
    """
    tables = motifs.values() if isinstance(motifs, Mapping) else [motifs]
    found = {motif_family(str(m)) for t in tables if not t.empty for m in t["motif"]}
    return sorted(found)


def _null_names(df: pd.DataFrame) -> str:
    if "null_model" not in df or df["null_model"].dropna().empty:
        return "null"
    return ", ".join(sorted({str(x).split(":")[0] for x in df["null_model"].dropna()}))


def plot_zscores(motifs: pd.DataFrame | Mapping[str, pd.DataFrame], run: str = "",
                 family: str | None = None, top: int = 16) -> Figure:
    """Plot the Z-score history of one motif family, with |Z| = 2 guide lines.

    The ``top`` motifs with the largest mean |Z| are drawn, each named with its null model.

    Parameters
    ----------
    motifs : DataFrame or dict of DataFrame
        :meth:`Store.motifs` of one run, or ``{run: motifs}`` to overlay runs.
    run : str
        Title when one table is given.
    family : str, optional
        One of :func:`families`; default the first present.
    top : int
        At most this many motifs.

    Returns
    -------
    NotebookFigure
        The figure (shown inline by Jupyter).
    """
    runs = _runs(motifs, run)
    fams = families(runs)
    family = family or (fams[0] if fams else None)
    fig, ax = _figure(8, 4.5)
    if family is None:
        ax.set_title(f"{_title(runs)}: no motif results (run `sparsetopo analyze`)")
        return fig
    i = 0
    nulls = []
    for name, df in runs.items():
        df = df[[motif_family(str(m)) == family for m in df["motif"]]]
        if df.empty:
            continue
        null = _null_names(df)
        nulls.append(null)
        z = df.pivot_table(index="step", columns="motif", values="z", aggfunc="first")
        z = z.loc[:, z.abs().mean().fillna(0).sort_values(ascending=False).index[:top]]
        for col in z.columns:
            what = f"{col}: Z ({null})"
            ax.plot(z.index, z[col], label=_label(name, what, len(runs) > 1), **series_style(i))
            i += 1
    for level in (-2, 2):
        ax.axhline(level, color="black", linewidth=0.8, linestyle=":")
    ax.axhline(0, color="black", linewidth=0.4)
    if i:
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize="small")
    ax.set_xlabel("step")
    ax.set_ylabel("Z = (count - null mean) / null SD")
    ax.set_title(f"{_title(runs)}: {family} Z-scores ({', '.join(sorted(set(nulls)))} null; "
                 "dotted: |Z| = 2)")
    return fig


def plot_null_bands(motifs: pd.DataFrame | Mapping[str, pd.DataFrame], run: str = "",
                    family: str | None = None, top: int = 9) -> Figure:
    """Plot observed counts against their null mean with a band of one null SD.

    One panel per motif of a family (the ``top`` with the largest mean |Z|): the observed count
    solid, the null mean dashed.

    Parameters
    ----------
    motifs : DataFrame or dict of DataFrame
        :meth:`Store.motifs` of one run, or ``{run: motifs}`` to overlay runs.
    run : str
        Title when one table is given.
    family : str, optional
        One of :func:`families`; default the first present.
    top : int
        At most this many motifs (panels).

    Returns
    -------
    NotebookFigure
        The figure (shown inline by Jupyter).
    """
    runs = _runs(motifs, run)
    fams = families(runs)
    family = family or (fams[0] if fams else None)
    first = next((df for df in runs.values() if not df.empty), pd.DataFrame())
    names: list[str] = []
    if family is not None and not first.empty:
        sub = first[[motif_family(str(m)) == family for m in first["motif"]]]
        order = sub.assign(absz=sub["z"].abs()).groupby("motif")["absz"].mean()
        names = [str(x) for x in order.fillna(0).sort_values(ascending=False).index[:top]]
    if not names:
        fig, ax = _figure()
        ax.set_title(f"{_title(runs)}: no motif results (run `sparsetopo analyze`)")
        return fig
    ncols = min(3, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = _figure(3.2 * ncols, 2.4 * nrows, nrows, ncols)
    for k, motif in enumerate(names):
        ax = axes[k // ncols][k % ncols]
        for i, (name, df) in enumerate(runs.items()):
            d = df[df["motif"] == motif].sort_values("step")
            if d.empty:
                continue
            style = series_style(i)
            ax.plot(d["step"], d["count"].astype(float), color=style["color"], linestyle="-",
                    marker=style["marker"], markersize=2.5, label=_label(name, "observed", len(runs) > 1))
            mean, sd = d["null_mean"].astype(float), d["null_sd"].astype(float).fillna(0)
            ax.plot(d["step"], mean, color=style["color"], linestyle="--",
                    label=_label(name, f"null mean ± 1 SD ({_null_names(d)})", len(runs) > 1))
            ax.fill_between(d["step"], mean - sd, mean + sd, color=style["color"], alpha=0.2,
                            linewidth=0)
        ax.set_title(motif, fontsize="small")
        if k == 0:
            ax.legend(fontsize="x-small")
    for k in range(len(names), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.suptitle(f"{_title(runs)}: {family}, observed vs null")
    return fig


def plot_nnstd(matrix: pd.DataFrame | Mapping[str, pd.DataFrame], run: str = "") -> Figure:
    """Plot the NNSTD between snapshots.

    A heatmap (evenly spaced step ticks) when most pairs are stored (``analyze --nnstd all``),
    else lines of the distance to the first and to the previous snapshot.

    Parameters
    ----------
    matrix : DataFrame or dict of DataFrame
        :meth:`Store.nnstd_matrix` of one run, or ``{run: matrix}`` to overlay runs.
    run : str
        Title when one matrix is given.

    Returns
    -------
    NotebookFigure
        The figure (shown inline by Jupyter).
    """
    runs = _runs(matrix, run)
    dense = len(runs) == 1 and all(
        not m.empty and np.isfinite(m.to_numpy(dtype=float)).mean() > 0.5 for m in runs.values())
    if dense:
        (name, m), = runs.items()
        fig, ax = _figure(5.8, 4.8)
        steps = np.asarray(m.index, dtype=float)
        values = m.to_numpy(dtype=float)
        im = ax.imshow(values, cmap="viridis", vmin=0, vmax=1, origin="lower",
                       interpolation="nearest")
        ticks = np.unique(np.linspace(0, len(steps) - 1, min(len(steps), 6)).round().astype(int))
        ax.set_xticks(ticks, [f"{steps[t]:g}" for t in ticks])
        ax.set_yticks(ticks, [f"{steps[t]:g}" for t in ticks])
        fig.colorbar(im, ax=ax, label="NNSTD")
        ax.set_xlabel("step")
        ax.set_ylabel("step")
        ax.set_title(f"{name}: NNSTD between snapshots")
        return fig
    fig, ax = _figure()
    i = 0
    for name, m in runs.items():
        if m.empty:
            continue
        order: list[Any] = list(m.index)
        first = m.iloc[0].astype(float)
        prev = [float(m.loc[a, b]) for a, b in itertools.pairwise(order)]
        ax.plot(order, first.to_numpy(), label=_label(name, "to the first snapshot", len(runs) > 1),
                **series_style(i))
        ax.plot(order[1:], prev, label=_label(name, "to the previous snapshot", len(runs) > 1),
                **series_style(i + 1))
        i += 2
    if i:
        ax.legend(fontsize="small")
        ax.set_ylim(bottom=0)
        ax.set_title(f"{_title(runs)}: NNSTD")
    else:
        ax.set_title(f"{_title(runs)}: no NNSTD results")
    ax.set_xlabel("step")
    ax.set_ylabel("NNSTD")
    return fig


def plot_turnover(turnover: pd.DataFrame | Mapping[str, pd.DataFrame], run: str = "") -> Figure:
    """Plot births, deaths and sign flips per snapshot.

    The first snapshot's births are omitted; one line style per run when overlaid.

    Parameters
    ----------
    turnover : DataFrame or dict of DataFrame
        The ``turnover`` query of one run (columns step, births, deaths, sign_flips), or
        ``{run: turnover}`` to overlay runs.
    run : str
        Title when one table is given.

    Returns
    -------
    NotebookFigure
        The figure (shown inline by Jupyter).
    """
    runs = _runs(turnover, run)
    fig, ax = _figure()
    for r, (name, t) in enumerate(runs.items()):
        t = t.iloc[1:] if len(t) > 1 else t
        for i, col in enumerate(("births", "deaths", "sign_flips")):
            style = series_style(i)
            style["linestyle"] = _STYLES[r % len(_STYLES)]
            ax.plot(t["step"], t[col], label=_label(name, col.replace("_", " "), len(runs) > 1),
                    **style)
    ax.set_xlabel("step")
    ax.set_ylabel("edges")
    ax.legend(fontsize="small")
    ax.set_title(f"{_title(runs)}: edge turnover")
    return fig


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "run"


def figures(store: Store, runs: Sequence[str]) -> dict[str, Figure]:
    """Build every figure of :func:`plot_runs`, by file stem, without writing anything.

    Parameters
    ----------
    store : Store
        The connected store.
    runs : sequence of str
        One run, or several to overlay.

    Returns
    -------
    dict of str to NotebookFigure
        Figures keyed by file stem (balance, zscores-FAMILY, null-FAMILY, nnstd, turnover).

    Raises
    ------
    InputError
        If no run is given.
    """
    if not runs:
        raise InputError("plot needs at least one run name")
    history = {r: store.history(r) for r in runs}
    motifs = {r: store.motifs(r) for r in runs}
    out: dict[str, Figure] = {"balance": plot_balance(history)}
    for family in families(motifs) or ["motifs"]:
        out[f"zscores-{family}"] = plot_zscores(motifs, family=family)
        out[f"null-{family}"] = plot_null_bands(motifs, family=family)
    out["nnstd"] = plot_nnstd({r: store.nnstd_matrix(r) for r in runs})
    out["turnover"] = plot_turnover({r: store.query("turnover", run=r) for r in runs})
    return out


def plot_runs(
    store: Store,
    runs: Sequence[str],
    out_dir: str | Path | None = None,
    fmt: str = "png",
    dpi: int = 150,
) -> list[Path]:
    """Write the figures of one run, or of several overlaid, into a folder.

    The figures are balance, one Z-score and one null-band figure per motif family, NNSTD and
    turnover.

    Parameters
    ----------
    store : Store
        The connected store.
    runs : sequence of str
        One run, or several to overlay.
    out_dir : path, optional
        Target folder (default ``./sparsetopo-plots/RUN[+RUN...]/``), created if missing.
    fmt : {"png", "pdf", "svg"}
        File format.
    dpi : int
        Resolution of PNGs (and of raster parts of PDF/SVG).

    Returns
    -------
    list of Path
        The files written, in the order above.

    Raises
    ------
    InputError
        For an unknown format, a dpi below 10 or no runs.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown figure format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if int(dpi) < 10:
        raise InputError(f"dpi must be at least 10 (got {dpi})")
    figs = figures(store, runs)
    name = "+".join(_safe(r) for r in runs)
    folder = Path(out_dir) if out_dir is not None else Path("sparsetopo-plots") / name
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, fig in figs.items():
        path = folder / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, dpi=int(dpi))
        paths.append(path)
    return paths


def plot_run(store: Store, run: str, out_dir: str | Path | None = None) -> list[Path]:
    """Write the figures of one run as PNGs (:func:`plot_runs` for one run, for older callers).

    Parameters
    ----------
    store : Store
        The connected store.
    run : str
        The run.
    out_dir : path, optional
        Target folder (default ``./sparsetopo-plots/RUN/``).

    Returns
    -------
    list of Path
        The files written.
    """
    return plot_runs(store, [run], out_dir)
