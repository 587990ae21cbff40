"""Edge-list CSV (``Id,Source,Target,Weight``), the format of the Zhang et al. 2023 sparse RNN
snapshots: each row is a nonzero recurrent weight W_rec[Source, Target].

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "edge_list_weighted_5.csv"
>>> _ = p.write_text("Id,Source,Target,Weight\\n0,2,0,-0.5\\n1,0,1,0.25\\n")
>>> data = read_csv_edges(p)
>>> data.edges.src.tolist(), data.edges.dst.tolist(), data.max_index
([0, 2], [1, 0], 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sparsetopo.errors import InputError
from sparsetopo.topology import MAX_GROUP_UNITS, Architecture, GraphSnapshot, LayerEdges, LayerSpec

LAYER = "W_rec"
GROUP = "hidden"
REQUIRED = ("Source", "Target", "Weight")


@dataclass
class CsvEdges:
    edges: LayerEdges  # sorted by (src, dst), zero weights and dropped NaN/Inf removed
    max_index: int  # -1 for a file without rows
    dropped: int  # NaN/Inf rows dropped (allow_nonfinite only)


def csv_architecture(n: int) -> Architecture:
    """One recurrent layer ``W_rec``: hidden -> hidden, n units."""
    spec = LayerSpec(LAYER, GROUP, GROUP, n, n, "recurrent", None, 0)
    return Architecture(groups={GROUP: n}, layers=(spec,))


def _shown(value: object) -> str:
    """A cell as a person would write it (no numpy reprs)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "an empty cell"
    return repr(str(value))


def _index_column(df: pd.DataFrame, col: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"{path}: column {col} must hold non-negative integers; line {row + 2} has "
            f"{_shown(df[col].iloc[row])}. Fix or remove that row (a truncated file ends "
            "like this too)."
        )
    if (values < 0).any():
        row = int(np.argmax(values < 0))
        raise InputError(
            f"{path}: column {col} has a negative unit index {int(values[row])} on line "
            f"{row + 2}; indices start at 0."
        )
    if (values >= MAX_GROUP_UNITS).any():
        row = int(np.argmax(values >= MAX_GROUP_UNITS))
        raise InputError(
            f"{path}: column {col} on line {row + 2} is unit index {_shown(df[col].iloc[row])}, "
            f"beyond the limit of {MAX_GROUP_UNITS:,} units per group "
            "(docs/ingest-formats.md); fix the index."
        )
    return values.astype(np.int64)


def read_csv_edges(path: Path, allow_nonfinite: bool = False) -> CsvEdges:
    """Read and validate one edge-list CSV. Raises InputError naming the file and the fix."""
    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise InputError(
            f"{path}: file is empty; expected a header Id,Source,Target,Weight."
        ) from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: cannot be read as CSV ({exc}); expected comma-separated columns "
            "Id,Source,Target,Weight."
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)} (found {', '.join(df.columns)}); "
            "the header must be Id,Source,Target,Weight."
        )
    src = _index_column(df, "Source", path)
    dst = _index_column(df, "Target", path)
    w = pd.to_numeric(df["Weight"], errors="coerce").to_numpy(dtype=np.float64)
    unparsable = (
        np.isnan(w)
        & df["Weight"].notna().to_numpy()
        & ~df["Weight"].astype(str).str.strip().str.lower().isin(["nan", "-nan", "+nan"]).to_numpy()
    )
    if unparsable.any():
        row = int(np.argmax(unparsable))
        raise InputError(
            f"{path}: Weight on line {row + 2} is not a number ({df['Weight'].iloc[row]!r})."
        )
    # An empty Weight cell is as unusable as NaN: treat it like one.
    nonfinite = ~np.isfinite(w)
    dropped = int(nonfinite.sum())
    if dropped and not allow_nonfinite:
        row = int(np.argmax(nonfinite))
        raise InputError(
            f"{path}: {dropped} NaN/Inf/empty weight(s), first on line {row + 2}. Pass "
            "allow_nonfinite=True (--allow-nonfinite) to drop them and report the count."
        )
    # Weights are stored as float32: check them after the cast, so that 1e39 does not become
    # Inf and 1e-50 does not become a zero weight that still gets a sign.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        w32 = w.astype(np.float32)
    for bad, problem in (
        (np.isfinite(w) & ~np.isfinite(w32),
         "is outside the float32 range (|w| <= 3.4e38) in which weights are stored; rescale "
         "the weights"),
        (np.isfinite(w) & (w != 0) & (w32 == 0),
         "is nonzero but below float32's smallest magnitude (1.4e-45), so it would be stored "
         "as 0; write 0 (or remove the row) or rescale the weights"),
    ):
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(
                f"{path}: Weight {df['Weight'].iloc[row]!s} on line {row + 2} {problem}."
            )
    w = w32
    keys = src * (int(max(src.max(initial=0), dst.max(initial=0))) + 1) + dst
    uniq, _first, counts = np.unique(keys, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup_key = uniq[np.argmax(counts > 1)]
        rows = np.nonzero(keys == dup_key)[0]
        raise InputError(
            f"{path}: edge ({src[rows[0]]} -> {dst[rows[0]]}) appears {len(rows)} times (lines "
            f"{', '.join(str(r + 2) for r in rows[:5])}); each (Source, Target) pair may appear "
            "once. Remove the duplicates."
        )
    max_index = int(max(src.max(initial=-1), dst.max(initial=-1)))
    keep = np.isfinite(w) & (w != 0)
    order = np.lexsort((dst[keep], src[keep]))
    edges = LayerEdges(src[keep][order], dst[keep][order], w[keep][order])
    return CsvEdges(edges, max_index, dropped)


def write_csv_snapshot(
    snapshot: GraphSnapshot, architecture: Architecture, path: str | Path, layer: str | None = None
) -> Path:
    """Write one layer of a snapshot as ``Id,Source,Target,Weight`` (weights with 9 significant
    digits, which round-trips float32 exactly). ``layer`` may be omitted for a one-layer
    architecture."""
    names = [s.name for s in architecture.layers]
    if layer is None:
        if len(names) != 1:
            raise InputError(
                f"{path}: the CSV edge-list format holds one layer; choose one of "
                f"{', '.join(names)} (layer=...)."
            )
        layer = names[0]
    if layer not in snapshot.layers:
        raise InputError(f"{path}: snapshot has no layer {layer!r}; it has {', '.join(names)}.")
    edges = snapshot.layers[layer]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {
            "Id": np.arange(len(edges)),
            "Source": edges.src,
            "Target": edges.dst,
            "Weight": edges.w.astype(np.float64),
        }
    )
    frame.to_csv(out, index=False, float_format="%.9g")
    return out
