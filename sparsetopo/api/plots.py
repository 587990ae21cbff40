"""Figures of runs' evolution (matplotlib without pyplot: no global state, no GUI backend).

Each ``plot_*`` function takes what the Store returns (one run, or a dict ``{run: data}`` to
overlay runs) and gives back a :class:`NotebookFigure`, which a notebook displays inline without
``%matplotlib inline``; :func:`plot_runs` writes them all (PNG, PDF or SVG).

Conventions, the same in every figure:

* one panel per run (Z-scores) or per statistic (balance, null bands, turnover), every panel
  with labelled axes;
* legends sit outside the axes (right of the panels), never over the data;
* a motif class has one colour everywhere (:data:`CLASS_COLOURS`, :func:`class_colour`) and
  classes are listed in one fixed order (:func:`class_order`), whatever a run's Z-scores;
* titles say what is selected ("top 9 of 16 classes by mean |Z|") and against which null;
* Monte Carlo Z-scores carry a band of one standard error (``z_se``, see
  :func:`sparsetopo.analysis.zscore_se`); null means are dashed with a band of one null SD;
  Z-score axes carry |Z| = 2 guide lines.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sparsetopo.errors import InputError, MissingExtraError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
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
#: Sixteen distinguishable hues for the classes of one family (tab20 without its pale twins
#: of yellow-green and cyan, plus four darker ones).
_CLASS_HUES = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
               "#393b79", "#637939")
_TRIADS = ("003", "012", "102", "021D", "021U", "021C", "111D", "111U",
           "030T", "030C", "201", "120D", "120U", "120C", "210", "300")  # fmt: skip
_LAYERED = ("edge", "diverging2", "converging2", "chain2", "diverging3", "converging3",
            "chain3", "bifan", "biparallel")
_BALANCE = ("ffl_balance_pooled", "ffl_balance_paper", "ffl_unbalanced",
            "triangle_unbalanced_fraction", "cycle4_balance")
_DYADS = ("dyad_mutual", "dyad_asymmetric", "dyad_null")
#: The fixed colour of every known motif class, keyed by the stored class name (the ``motif``
#: column of :meth:`Store.motifs`). Triads, layered motifs and balance statistics each take
#: distinct hues; a signed class ("030T:++-") takes its unsigned class's colour.
CLASS_COLOURS: dict[str, str] = {
    **{c: _CLASS_HUES[i] for i, c in enumerate(_TRIADS)},
    **{c: _CLASS_HUES[i] for i, c in enumerate(_LAYERED)},
    **{c: _CLASS_HUES[i] for i, c in enumerate(_DYADS)},
    **{c: _CLASS_HUES[i] for i, c in enumerate(_BALANCE)},
}
#: History columns drawn in the colour of the motif statistic they report.
_HISTORY_CLASS = {"ffl_balance": "ffl_balance_pooled", "ffl_balance_paper": "ffl_balance_paper",
                  "triangle_unbalanced_fraction": "triangle_unbalanced_fraction",
                  "cycle4_balance": "cycle4_balance"}
_ORDER = {c: i for i, c in enumerate((*_TRIADS, *_LAYERED, *_DYADS, *_BALANCE))}
#: FFL-balance keys, old and new names of the null-model statistics (nulls rework).
_FFL_NULL_KEYS = ("ffl_balance_null", "ffl_balance_null_mean")
_FFL_Z_KEYS = ("ffl_balance_z", "ffl_balance_z_sign_shuffle")


def class_colour(name: str) -> str:
    """Return the colour of a motif class, the same in every figure and every run.

    Parameters
    ----------
    name : str
        A stored class name: a MAN triad code, a signed class ``CODE:SIGNS``, a layered motif,
        a dyad or balance statistic, or anything else.

    Returns
    -------
    str
        A hex colour: :data:`CLASS_COLOURS` for known classes (a signed class takes the colour
        of its unsigned class), else one picked by a stable hash (CRC-32) of the name.

    Examples
    --------
    >>> class_colour("030T") == class_colour("030T:++-") == CLASS_COLOURS["030T"]
    True
    >>> class_colour("my_statistic") == class_colour("my_statistic")
    True
    """
    base = name.split(":", 1)[0]
    if base in CLASS_COLOURS:
        return CLASS_COLOURS[base]
    return _CLASS_HUES[zlib.crc32(name.encode()) % len(_CLASS_HUES)]


def class_order(names: Sequence[str]) -> list[str]:
    """Return motif class names in their fixed order (MAN order for triads, then the rest).

    Parameters
    ----------
    names : sequence of str
        Class names.

    Returns
    -------
    list of str
        Known classes in the order of :data:`CLASS_COLOURS` (a signed class after its unsigned
        class, by sign pattern), unknown ones after them alphabetically.

    Examples
    --------
    >>> class_order(["300", "030T:+-+", "003", "030T", "zz"])
    ['003', '030T', '030T:+-+', '300', 'zz']
    """
    def key(name: str) -> tuple[int, str]:
        base, _, rest = name.partition(":")
        return (_ORDER.get(base, len(_ORDER)), base + ("\0" + rest if rest else ""))

    return sorted(dict.fromkeys(names), key=key)


def _class_style(name: str) -> dict[str, Any]:
    """Colour of the class; a signed class also a line style and marker of its sign pattern."""
    signs = name.partition(":")[2]
    k = zlib.crc32(signs.encode()) if signs else 0
    return {"color": class_colour(name), "linestyle": _STYLES[k % len(_STYLES)],
            "marker": _MARKERS[k % len(_MARKERS)], "markersize": 3.5}


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
            sharex: bool = True) -> tuple[Figure, Any]:
    """Create a figure with one axes, or an (nrows x ncols) array of them for a grid."""
    fig = _figure_class()(figsize=(width, height), dpi=110, layout="constrained")
    if not nrows:
        return fig, fig.add_subplot()
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex)
    for ax in axes.flat:  # every panel labels its x axis, shared or not
        ax.tick_params(labelbottom=True)
    return fig, axes


def _legend_outside(fig: Figure, handles: Sequence[Any], labels: Sequence[str],
                    title: str | None = None) -> None:
    """One legend for the whole figure, right of every panel (constrained layout makes room)."""
    if not handles:
        return
    ncols = 1 if len(labels) <= 18 else 2
    # centred on the right: clear of a suptitle, which spans the top of the figure
    fig.legend(handles, labels, loc="outside right center", fontsize="small", ncols=ncols,
               title=title, title_fontsize="small", frameon=False)


def _unique_handles(axes: Sequence[Axes]) -> tuple[list[Any], list[str]]:
    """Legend entries of several panels, each label once, in first-seen order."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, h)
    return list(seen.values()), list(seen)


def _runs(data: pd.DataFrame | Mapping[str, pd.DataFrame], run: str) -> dict[str, pd.DataFrame]:
    if isinstance(data, Mapping):
        return dict(data)
    return {run: data}


def _first(df: pd.DataFrame, keys: Sequence[str]) -> str | None:
    for key in keys:
        if key in df and df[key].notna().any():
            return key
    return None


def _title(runs: Mapping[str, Any]) -> str:
    names = [r for r in runs if r]
    if len(names) > 3:
        return f"{len(names)} runs"
    return " vs ".join(names)


def _prefix(runs: Mapping[str, Any]) -> str:
    title = _title(runs)
    return f"{title}: " if title else ""


def _no_results(runs: Mapping[str, Any], ylabel: str, what: str) -> Any:
    """Return an empty plot whose title names what is missing and the command computing it."""
    fig, ax = _figure()
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{_prefix(runs)}{what} (run `sparsetopo analyze`)")
    return fig


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    ncols = max(1, min(max_cols, n))
    return math.ceil(n / ncols), ncols


def _hide_unused(axes: Any, used: int) -> None:
    rows, cols = axes.shape
    for k in range(used, rows * cols):
        axes[k // cols][k % cols].set_visible(False)


def _run_style(r: int, several: bool, cls: str) -> dict[str, Any]:
    """Style a run in a panel of one statistic: the class colour alone, else one per run."""
    return series_style(r) if several else _class_style(cls)


def plot_balance(history: pd.DataFrame | Mapping[str, pd.DataFrame], run: str = "") -> Figure:
    """Plot balance ratios and sparsity over steps, one panel per statistic.

    Panels: FFL balance (pooled) with its sign-shuffle null mean (dashed) and a band of one null
    SD, FFL balance (paper), triangle balance (1 - unbalanced fraction), 4-cycle balance and
    sparsity, each present in at least one run. Overlaid runs are one line each.

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
    panels = [("ffl_balance", "FFL balance (pooled)", "balanced fraction"),
              ("ffl_balance_paper", "FFL balance (paper)", "balanced fraction"),
              ("triangle_unbalanced_fraction", "triangle balance", "balanced fraction"),
              ("cycle4_balance", "4-cycle balance", "balanced fraction"),
              ("sparsity", "sparsity (whole graph)", "fraction of weights zero")]
    present = [p for p in panels if any(p[0] in h and h[p[0]].notna().any() for h in runs.values())]
    if not present:
        return _no_results(runs, "balanced fraction", "no balance results")
    nrows, ncols = _grid(len(present), 2)
    fig, axes = _figure(4.2 * ncols + (1.6 if several else 1.2), 2.6 * nrows + 0.5, nrows, ncols)
    flat = [axes[k // ncols][k % ncols] for k in range(len(present))]
    for ax, (col, title, ylabel) in zip(flat, present, strict=True):
        for r, (name, h) in enumerate(runs.items()):
            if col not in h or not h[col].notna().any():
                continue
            y = h[col].astype(float)
            if col == "triangle_unbalanced_fraction":
                y = 1 - y
            style = _run_style(r, several, _HISTORY_CLASS.get(col, "sparsity"))
            if col == "sparsity" and not several:
                style["color"] = "grey"
            ax.plot(h.index, y, label=name if several else "observed", **style)
            null_key = _first(h, _FFL_NULL_KEYS) if col == "ffl_balance" else None
            if null_key is not None:
                mean = h[null_key].astype(float)
                ax.plot(h.index, mean, color=style["color"], linestyle="--", linewidth=1,
                        label="sign-shuffle null mean ± 1 SD (dashed, band)")
                sd = _null_sd(h, null_key)
                if sd is not None:
                    ax.fill_between(h.index, mean - sd, mean + sd, color=style["color"],
                                    alpha=0.2, linewidth=0)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        if col == "sparsity":
            ax.set_ylim(0, 1)
    _hide_unused(axes, len(present))
    handles, labels = _unique_handles(flat)
    from matplotlib.lines import Line2D

    # one entry for every run's null line (each in its run's colour); with one run each panel
    # has its statistic's colour, so the legend explains line styles only
    handles = [Line2D([], [], color="black", linestyle="--", linewidth=1)
               if label.startswith("sign-shuffle") else
               h if several else Line2D([], [], color="black", marker="o", markersize=3.5)
               for h, label in zip(handles, labels, strict=True)]
    _legend_outside(fig, handles, labels, title="run" if several else None)
    fig.suptitle(f"{_prefix(runs)}balance and sparsity")
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


def _of_family(runs: Mapping[str, pd.DataFrame], family: str) -> dict[str, pd.DataFrame]:
    out = {}
    for name, df in runs.items():
        if df.empty:
            continue
        sub = df[[motif_family(str(m)) == family for m in df["motif"]]]
        if not sub.empty:
            out[name] = sub
    return out


def _top_classes(runs: Mapping[str, pd.DataFrame], top: int) -> tuple[list[str], int]:
    """Pick the ``top`` classes by mean |Z| over every run (in the fixed class order).

    Also returns how many classes there are.
    """
    both = pd.concat(list(runs.values()), ignore_index=True)
    absz = both.assign(absz=both["z"].astype(float).abs()).groupby("motif")["absz"].mean()
    ranked = [str(x) for x in absz.fillna(-1).sort_values(ascending=False, kind="stable").index]
    return class_order(ranked[:top]), len(ranked)


def _selection(shown: int, total: int) -> str:
    return f"all {total} classes" if shown >= total else f"top {shown} of {total} classes by mean |Z|"


def plot_zscores(motifs: pd.DataFrame | Mapping[str, pd.DataFrame], run: str = "",
                 family: str | None = None, top: int = 16) -> Figure:
    """Plot the Z-score history of one motif family, one panel per run.

    The ``top`` classes with the largest mean |Z| (over all runs) are drawn in their fixed
    colour (:func:`class_colour`) and order, each with a band of one Monte Carlo standard error
    (``z_se``) where stored, and |Z| = 2 guide lines.

    Parameters
    ----------
    motifs : DataFrame or dict of DataFrame
        :meth:`Store.motifs` of one run, or ``{run: motifs}`` for one panel per run.
    run : str
        Title when one table is given.
    family : str, optional
        One of :func:`families`; default the first present.
    top : int
        At most this many classes.

    Returns
    -------
    NotebookFigure
        The figure (shown inline by Jupyter).
    """
    runs = _runs(motifs, run)
    fams = families(runs)
    family = family or (fams[0] if fams else None)
    sub = _of_family(runs, family) if family is not None else {}
    if not sub:
        return _no_results(runs, "Z", "no motif results")
    names, total = _top_classes(sub, top)
    fig, axes = _figure(7.5, 2.9 * len(sub) + 0.6, len(sub), 1)
    nulls = []
    for ax, (name, df) in zip(axes[:, 0], sub.items(), strict=True):
        nulls.append(_null_names(df))
        z = df.pivot_table(index="step", columns="motif", values="z", aggfunc="first")
        se = (df.pivot_table(index="step", columns="motif", values="z_se", aggfunc="first")
              if "z_se" in df and df["z_se"].notna().any() else None)
        for cls in names:
            if cls not in z:
                continue
            style = _class_style(cls)
            ax.plot(z.index, z[cls], label=cls, **style)
            if se is not None and cls in se:
                lo, hi = z[cls] - se[cls], z[cls] + se[cls]
                ax.fill_between(z.index, lo, hi, color=style["color"], alpha=0.15, linewidth=0)
        for level in (-2, 2):
            ax.axhline(level, color="black", linewidth=0.8, linestyle=":")
        ax.axhline(0, color="black", linewidth=0.4)
        ax.set_xlabel("step")
        ax.set_ylabel("Z (count vs null)")
        if name:
            ax.set_title(name, fontsize="medium")
    handles, labels = _unique_handles(list(axes[:, 0]))
    _legend_outside(fig, handles, labels, title="class")
    band = "; band: ±1 Monte Carlo SE" if any("z_se" in d for d in sub.values()) else ""
    fig.suptitle(f"{_prefix(runs)}{family} Z-scores against the "
                 f"{', '.join(sorted(set(nulls)))} null, {_selection(len(names), total)}\n"
                 f"(dotted: |Z| = 2{band})", fontsize="medium")
    return fig


def plot_null_bands(motifs: pd.DataFrame | Mapping[str, pd.DataFrame], run: str = "",
                    family: str | None = None, top: int = 9) -> Figure:
    """Plot observed counts against their null mean with a band of one null SD.

    One panel per class of a family (the ``top`` with the largest mean |Z|, in the fixed class
    order): the observed count solid, the null mean dashed, in the class's colour for one run
    (one colour per run when overlaid).

    Parameters
    ----------
    motifs : DataFrame or dict of DataFrame
        :meth:`Store.motifs` of one run, or ``{run: motifs}`` to overlay runs.
    run : str
        Title when one table is given.
    family : str, optional
        One of :func:`families`; default the first present.
    top : int
        At most this many classes (panels).

    Returns
    -------
    NotebookFigure
        The figure (shown inline by Jupyter).
    """
    runs = _runs(motifs, run)
    fams = families(runs)
    family = family or (fams[0] if fams else None)
    sub = _of_family(runs, family) if family is not None else {}
    if not sub:
        return _no_results(runs, "count", "no motif results")
    names, total = _top_classes(sub, top)
    several = len(sub) > 1
    nrows, ncols = _grid(len(names))
    fig, axes = _figure(3.0 * ncols + 2.2, 2.3 * nrows + 0.7, nrows, ncols, sharex=False)
    ylabel = "value" if family == "balance" else "count"
    for k, cls in enumerate(names):
        ax = axes[k // ncols][k % ncols]
        for r, (name, df) in enumerate(sub.items()):
            d = df[df["motif"] == cls].sort_values("step")
            if d.empty:
                continue
            style = _run_style(r, several, cls)
            style["linestyle"] = "-"
            ax.plot(d["step"], d["count"].astype(float), label=f"{name}: observed" if several
                    else "observed (solid)", **style)
            mean, sd = d["null_mean"].astype(float), d["null_sd"].astype(float).fillna(0)
            ax.plot(d["step"], mean, color=style["color"], linestyle="--", linewidth=1,
                    label=(f"{name}: " if several else "")
                    + f"null mean ± 1 SD ({_null_names(d)}; dashed, band)")
            ax.fill_between(d["step"], mean - sd, mean + sd, color=style["color"], alpha=0.2,
                            linewidth=0)
        ax.set_title(cls, fontsize="small")
        ax.set_xlabel("step", fontsize="small")
        ax.set_ylabel(ylabel, fontsize="small")
        ax.tick_params(labelsize="x-small")
    _hide_unused(axes, len(names))
    handles, labels = _unique_handles([axes[k // ncols][k % ncols] for k in range(len(names))])
    if not several:  # each panel has its class's colour: the legend explains the line styles
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color="black", marker="o", markersize=3.5),
                   Line2D([], [], color="black", linestyle="--", linewidth=1)]
    _legend_outside(fig, handles, labels)
    fig.suptitle(f"{_prefix(runs)}{family}, observed vs null: {_selection(len(names), total)}",
                 fontsize="medium")
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
        ax.set_title(f"{name}: NNSTD between snapshots" if name else "NNSTD between snapshots")
        return fig
    fig, ax = _figure(7.5, 4.0)
    i = 0
    for name, m in runs.items():
        if m.empty:
            continue
        order: list[Any] = list(m.index)
        first = m.iloc[0].astype(float)
        prev = [float(m.loc[a, b]) for a, b in itertools.pairwise(order)]
        several = len(runs) > 1
        ax.plot(order, first.to_numpy(), label=f"{name}: to the first snapshot" if several
                else "to the first snapshot", **series_style(i))
        ax.plot(order[1:], prev, label=f"{name}: to the previous snapshot" if several
                else "to the previous snapshot", **series_style(i + 1))
        i += 2
    if i:
        ax.set_ylim(bottom=0)
        _legend_outside(fig, *ax.get_legend_handles_labels())
        ax.set_title(f"{_prefix(runs)}NNSTD")
    else:
        ax.set_title(f"{_prefix(runs)}no NNSTD results")
    ax.set_xlabel("step")
    ax.set_ylabel("NNSTD")
    return fig


def plot_turnover(turnover: pd.DataFrame | Mapping[str, pd.DataFrame], run: str = "") -> Figure:
    """Plot births, deaths and sign flips per snapshot, one panel each.

    Separate panels keep equal series (SET regrows as many weights as it drops) from hiding one
    another. The first snapshot's births (the whole graph) are omitted; one line per run.

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
    several = len(runs) > 1
    cols = ("births", "deaths", "sign_flips")
    fig, axes = _figure(7.5 if several else 6.0, 6.2, len(cols), 1)
    for ax, col in zip(axes[:, 0], cols, strict=True):
        for r, (name, t) in enumerate(runs.items()):
            t = t.iloc[1:] if len(t) > 1 else t
            if col in t:
                ax.plot(t["step"], t[col], label=name, **series_style(r))
        what = col.replace("_", " ")
        ax.set_title(what, fontsize="medium")
        ax.set_ylabel(f"{what} (edges)")
        ax.set_xlabel("step")
        ax.set_ylim(bottom=0)
        ax.yaxis.get_major_locator().set_params(integer=True)
    if several:
        _legend_outside(fig, *_unique_handles(list(axes[:, 0])), title="run")
    fig.suptitle(f"{_prefix(runs)}edge turnover per snapshot (first snapshot's births omitted)",
                 fontsize="medium")
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
