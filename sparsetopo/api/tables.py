"""The DataFrames the :class:`~sparsetopo.api.store.Store` returns.

They are built from what ``graphstore`` read: run listings, histories (per snapshot, layer or
part), edge lists, a run's analysis parts and NNSTD matrices.

Nothing here talks to the database; every function takes plain rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sparsetopo.api.plan import AnalysisPlan
from sparsetopo.errors import InputError
from sparsetopo.graphstore.runs import RESERVED
from sparsetopo.topology import Architecture, GraphSnapshot

__all__ = [
    "ANALYSIS_PREFIXES",
    "HISTORY_BY",
    "RUN_COLUMNS",
    "edge_frame",
    "history_order",
    "nnstd_frame",
    "part_history",
    "parts_frame",
    "select",
    "snapshot_history",
]

#: First columns of a history table (the rest follow, see :func:`history_order`).
_HISTORY_FIRST = ("seq", "epoch", "n_edges", "sparsity", "births", "deaths", "sign_flips")
_HISTORY_DROP = ("run_id", "complete")
#: Bookkeeping properties of a snapshot: shown last in a history.
_HISTORY_LAST = ("created_at", "source")
#: Snapshot properties that ``analyze`` writes start with one of these (the rest of a
#: snapshot's non-reserved properties are the user's own metrics).
ANALYSIS_PREFIXES = ("ffl_", "unbalanced_", "triangle_", "cycle4_", "nnstd_", "overlap_",
                     "motif_", "analysis_")
#: ``history(by=...)`` choices.
HISTORY_BY = ("snapshot", "layer", "part")
#: Columns of ``Store.runs()``.
RUN_COLUMNS = ["name", "run_id", "created_at", "model", "task", "strategy", "status",
               "snapshots", "last_step", "min_sparsity", "max_sparsity", "writer"]
_EDGE_COLUMNS = ["layer", "src_group", "dst_group", "src", "dst", "weight", "sign"]


def _is_companion(base: str, column: str) -> bool:
    """Whether ``column`` reports the null model or Z-score of the statistic ``base``."""
    if not column.startswith(base + "_"):
        return False
    rest = column[len(base) + 1:]
    parts = rest.split("_")
    return "null" in parts or parts[-1] in ("z", "p", "sd")


def history_order(columns: Sequence[str]) -> dict[str, list[str]]:
    """Sort snapshot property names into the groups of a history table.

    Parameters
    ----------
    columns : sequence of str
        Property names of a run's snapshots.

    Returns
    -------
    dict of str to list of str
        ``"core"`` (seq, epoch, sizes and turnover), ``"metrics"`` (the user's own metrics,
        alphabetical), ``"statistics"`` (what ``analyze`` wrote, each statistic directly
        followed by its null-model value and Z-score), ``"markers"`` (``analysis_*`` records of
        how results were computed) and ``"other"`` (bookkeeping such as ``created_at``).

    Examples
    --------
    >>> g = history_order(["step", "accuracy", "ffl_balance_z", "n_edges", "ffl_balance",
    ...                    "ffl_balance_null", "loss", "nnstd_to_first", "analysis_motifs"])
    >>> g["core"], g["metrics"], g["statistics"], g["markers"]
    (['n_edges'], ['accuracy', 'loss'], ['ffl_balance', 'ffl_balance_null', 'ffl_balance_z', 'nnstd_to_first'], ['analysis_motifs'])
    """
    cols = [c for c in columns if c != "step" and c not in _HISTORY_DROP]
    core = [c for c in _HISTORY_FIRST if c in cols]
    other = [c for c in cols if c in _HISTORY_LAST or (c in RESERVED and c not in core)]
    markers = sorted(c for c in cols if c.startswith("analysis_"))
    stats = sorted(c for c in cols if c.startswith(ANALYSIS_PREFIXES) and c not in markers)
    metrics = sorted(c for c in cols if c not in core and c not in other and c not in markers
                     and c not in stats)
    ordered: list[str] = []
    companions = {c for c in stats if any(_is_companion(b, c) for b in stats if b != c)}
    for base in stats:
        if base in companions:
            continue
        ordered.append(base)
        ordered.extend(c for c in stats if c != base and _is_companion(base, c))
    ordered.extend(c for c in stats if c not in ordered)
    return {"core": core, "metrics": metrics, "statistics": ordered, "markers": markers,
            "other": other}


def select(df: pd.DataFrame, stats: Sequence[str] | None, run: str) -> pd.DataFrame:
    """``df`` restricted to ``stats`` (InputError naming the stored columns otherwise)."""
    if stats is None:
        return df
    unknown = [s for s in stats if s not in df.columns]
    if unknown:
        raise InputError(
            f"run {run!r} stores no statistics {unknown}; stored: {', '.join(df.columns)}"
        )
    return df[list(stats)]


def snapshot_history(snapshots: Sequence[Mapping[str, Any]], run: str,
                     stats: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per snapshot, indexed by step, columns in the groups of :func:`history_order`."""
    df = pd.DataFrame(list(snapshots))
    if df.empty:
        return pd.DataFrame(index=pd.Index([], name="step"))
    df = df.drop(columns=[c for c in _HISTORY_DROP if c in df.columns])
    groups = history_order(list(df.columns))
    order = [c for key in ("core", "metrics", "statistics", "markers", "other")
             for c in groups[key]]
    df = df.set_index("step")[order]
    return select(df, stats, run)


def part_history(
    rows: Sequence[Mapping[str, Any]], run: str, arch: Architecture, by: str,
    stats: Sequence[str] | None = None, layers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per (step, layer) or (step, part) from the run's stored part results.

    With ``by="layer"`` a recurrent layer's balance joins its layer row and ``layers`` (checked
    against ``arch``, an InputError listing them) keeps only those layers.
    """
    if layers is not None and by == "layer":
        known = [spec.name for spec in arch.layers]
        unknown = [x for x in layers if x not in known]
        if unknown:
            raise InputError(f"run {run!r} has no layers {unknown}; its layers: "
                             f"{', '.join(known)}")
    key = "layer" if by == "layer" else "part"
    out: list[Mapping[str, Any]] = list(rows)
    if by == "layer":
        merged: dict[tuple[int, str], dict[str, Any]] = {}
        for r in rows:  # a recurrent layer's balance joins its layer row
            layer = r["layers"][0] if r.get("layers") else r["part"]
            m = merged.setdefault((r["seq"], layer), {"seq": r["seq"], "step": r["step"],
                                                      "layer": layer})
            m.update({k: v for k, v in r.items()
                      if k not in ("seq", "step", "part", "kind", "layers")})
        out = [m for m in merged.values() if layers is None or m["layer"] in layers]
    df = pd.DataFrame(out)
    if df.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_arrays([[], []], names=["step", key]))
    first = [c for c in ("kind", "layers", "n_edges", "density") if c in df.columns]
    rest = sorted(c for c in df.columns if c not in ("seq", "step", key, *first))
    df = df.set_index(["step", key])[["seq", *first, *rest]]
    return select(df, stats, run)


def edge_frame(arch: Architecture, snap: GraphSnapshot) -> pd.DataFrame:
    """One row per edge of ``snap``: layer, src_group, dst_group, src, dst, weight, sign."""
    parts = []
    for spec in arch.layers:
        e = snap.layers.get(spec.name)
        if e is None:
            continue
        w = np.asarray(e.w, dtype=np.float64)
        parts.append(pd.DataFrame({
            "layer": spec.name, "src_group": spec.src_group, "dst_group": spec.dst_group,
            "src": np.asarray(e.src, dtype=np.int64), "dst": np.asarray(e.dst, dtype=np.int64),
            "weight": w, "sign": np.sign(w).astype(np.int8)}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_EDGE_COLUMNS)


def parts_frame(plan: AnalysisPlan) -> pd.DataFrame:
    """One row per part of ``plan``: part, kind, primary, layers, sizes."""
    return pd.DataFrame(
        [{"part": p.name, "kind": p.kind, "primary": p.name == plan.primary,
          "layers": list(p.layers), "sizes": list(p.sizes)} for p in plan.parts],
        columns=["part", "kind", "primary", "layers", "sizes"])


def nnstd_frame(pairs: pd.DataFrame, same_run: bool) -> pd.DataFrame:
    """Pivot stored NNSTD pairs into a step x step matrix (symmetric, zero diagonal within one run)."""
    if pairs.empty:
        return pd.DataFrame()
    m = pairs.pivot_table(index="step_a", columns="step_b", values="distance", aggfunc="first")
    if same_run:
        steps = sorted(set(m.index) | set(m.columns))
        m = m.reindex(index=steps, columns=steps)
        m = m.combine_first(m.T)
        for s in steps:
            m.loc[s, s] = 0.0
    return m
