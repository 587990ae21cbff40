"""Figures of a run's evolution (matplotlib, Agg backend): each ``plot_*`` function takes the
DataFrame the Store returns and gives back a Figure; :func:`plot_run` writes them all as PNGs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sparsetopo.errors import MissingExtraError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sparsetopo.api.store import Store


def _figure(width: float = 7.0, height: float = 4.0) -> tuple[Figure, Any]:
    try:
        from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "plots", "plotting") from exc

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    return fig, fig.add_subplot()


def plot_balance(history: pd.DataFrame, run: str = "") -> Figure:
    """Balance ratios (FFL pooled / paper / sign-shuffled null, triangle, 4-cycle) and sparsity
    over steps."""
    fig, ax = _figure()
    labels = {
        "ffl_balance": "FFL balance (pooled)",
        "ffl_balance_paper": "FFL balance (paper)",
        "ffl_balance_null": "FFL balance, sign-shuffled null",
        "cycle4_balance": "4-cycle balance",
    }
    for col, label in labels.items():
        if col in history and history[col].notna().any():
            style = "--" if col.endswith("_null") else "-"
            ax.plot(history.index, history[col].astype(float), style, marker=".", label=label)
    if "triangle_unbalanced_fraction" in history and history["triangle_unbalanced_fraction"].notna().any():
        ax.plot(history.index, 1 - history["triangle_unbalanced_fraction"].astype(float), ":",
                marker=".", label="triangle balance")
    ax.set_xlabel("step")
    ax.set_ylabel("balance ratio")
    if "sparsity" in history:
        ax2 = ax.twinx()
        ax2.plot(history.index, history["sparsity"].astype(float), color="grey", alpha=0.6,
                 label="sparsity")
        ax2.set_ylabel("sparsity", color="grey")
        ax2.set_ylim(0, 1)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(f"{run}: balance and sparsity")
    return fig


def plot_zscores(motifs: pd.DataFrame, run: str = "", top: int = 12) -> Figure:
    """Z-score history per motif (the ``top`` motifs with the largest mean |z|)."""
    fig, ax = _figure(8, 4.5)
    if not motifs.empty:
        z = motifs.pivot_table(index="step", columns="motif", values="z", aggfunc="first")
        z = z.loc[:, z.abs().mean().fillna(0).sort_values(ascending=False).index[:top]]
        for col in z.columns:
            ax.plot(z.index, z[col], marker=".", label=str(col))
        ax.axhline(0, color="black", lw=0.5)
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize="small")
        null = ", ".join(sorted(set(motifs["null_model"].dropna())))
        ax.set_title(f"{run}: motif Z-scores ({null} null)")
    else:
        ax.set_title(f"{run}: no motif results (run `sparsetopo analyze {run}`)")
    ax.set_xlabel("step")
    ax.set_ylabel("Z")
    return fig


def plot_nnstd(matrix: pd.DataFrame, run: str = "") -> Figure:
    """NNSTD heatmap (step x step; blank where not computed)."""
    fig, ax = _figure(5.5, 4.8)
    if not matrix.empty:
        im = ax.imshow(matrix.to_numpy(dtype=float), cmap="viridis", vmin=0, vmax=1,
                       origin="upper", interpolation="nearest")
        ticks = np.linspace(0, len(matrix) - 1, min(len(matrix), 8)).astype(int)
        ax.set_xticks(ticks, [str(matrix.columns[i]) for i in ticks], rotation=45)
        ax.set_yticks(ticks, [str(matrix.index[i]) for i in ticks])
        fig.colorbar(im, ax=ax, label="NNSTD")
        ax.set_title(f"{run}: NNSTD between snapshots")
    else:
        ax.set_title(f"{run}: no NNSTD results")
    ax.set_xlabel("step")
    ax.set_ylabel("step")
    return fig


def plot_turnover(turnover: pd.DataFrame, run: str = "") -> Figure:
    """Births, deaths and sign flips per snapshot (the first snapshot's births omitted)."""
    fig, ax = _figure()
    t = turnover.iloc[1:] if len(turnover) > 1 else turnover
    x = np.arange(len(t))
    ax.bar(x - 0.27, t["births"], width=0.27, label="births")
    ax.bar(x, t["deaths"], width=0.27, label="deaths")
    ax.bar(x + 0.27, t["sign_flips"], width=0.27, label="sign flips")
    step = max(1, len(t) // 10)
    ax.set_xticks(x[::step], [str(s) for s in t["step"].iloc[::step]])
    ax.set_xlabel("step")
    ax.set_ylabel("edges")
    ax.legend()
    ax.set_title(f"{run}: edge turnover")
    return fig


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "run"


def plot_run(store: Store, run: str, out_dir: str | Path | None = None) -> list[Path]:
    """Write balance.png, zscores.png, nnstd.png and turnover.png for ``run``; their paths."""
    folder = Path(out_dir) if out_dir is not None else Path("sparsetopo-plots") / _safe(run)
    folder.mkdir(parents=True, exist_ok=True)
    figures = {
        "balance.png": plot_balance(store.history(run), run),
        "zscores.png": plot_zscores(store.motifs(run), run),
        "nnstd.png": plot_nnstd(store.nnstd_matrix(run), run),
        "turnover.png": plot_turnover(store.query("turnover", run=run), run),
    }
    paths = []
    for filename, fig in figures.items():
        path = folder / filename
        fig.savefig(path)
        paths.append(path)
    return paths
