"""Files -> (Architecture, lazily loaded GraphSnapshots), for ``sparsetopo ingest``.

Formats (by extension, or ``fmt``): ``csv`` edge lists, ``pt`` checkpoints, ``npz`` per-layer
matrices; see docs/ingest-formats.md. Everything is read and validated once in
:func:`read_inputs`, so a bad file raises :class:`~sparsetopo.errors.InputError` before any
snapshot is handed out for writing; each loader then re-reads its file (memory stays flat).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "edges_10.csv").write_text("Id,Source,Target,Weight\\n0,0,1,0.5\\n")
>>> _ = (d / "edges_2.csv").write_text("Id,Source,Target,Weight\\n0,1,1,-1.0\\n")
>>> plan = read_inputs([d])
>>> plan.format, [item.step for item in plan.items], plan.architecture.groups
('csv', [2, 10], {'hidden': 2})
>>> [s.n_edges for s in plan.snapshots()]
[1, 1]
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from sparsetopo.errors import InputError
from sparsetopo.ingest.formats.csv_edges import csv_architecture, read_csv_edges, write_csv_snapshot
from sparsetopo.ingest.formats.npz_layers import (
    is_sparse_file,
    layer_files,
    read_npz_unit,
    write_npz_snapshot,
)
from sparsetopo.topology import (
    MAX_GROUP_UNITS,
    MAX_STEP,
    Architecture,
    GraphSnapshot,
    LayerEdges,
    check_step,
    check_unit_limits,
)

FORMATS = ("csv", "pt", "npz", "safetensors")
_EXTENSIONS = {".csv": "csv", ".pt": "pt", ".pth": "pt", ".ckpt": "pt", ".npz": "npz",
               ".safetensors": "safetensors"}
_TRAILING_NUMBER = re.compile(r"(\d+)$")

__all__ = [
    "FORMATS",
    "ImportItem",
    "ImportPlan",
    "read_inputs",
    "step_from_name",
    "write_csv_snapshot",
    "write_npz_snapshot",
]


class ImportItem(NamedTuple):
    """One snapshot to import: its step, where it comes from, and how to load it."""

    step: int
    source: str
    loader: Callable[[], GraphSnapshot]


@dataclass
class ImportPlan:
    """What an import will write: one architecture and one item per snapshot, in step order.

    ``dropped_nonfinite`` is the total number of NaN/Inf weights that loading will drop
    (nonzero only with allow_nonfinite=True); ``dropped_by_source`` breaks it down per item.
    """

    architecture: Architecture
    items: list[ImportItem]
    format: str
    dropped_nonfinite: int = 0
    dropped_by_source: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items)

    def load(self, item: ImportItem) -> GraphSnapshot:
        return item.loader()

    def snapshots(self) -> Iterator[GraphSnapshot]:
        for item in self.items:
            yield item.loader()


def step_from_name(path: str | Path) -> int | None:
    """The number at the end of a file or directory name (extension ignored), else None.

    >>> step_from_name("edge_list_weighted_35.csv"), step_from_name("ckpt_epoch12.pt")
    (35, 12)
    >>> step_from_name("final.pt") is None
    True
    """
    p = Path(path)
    stem = p.name if p.is_dir() else p.stem
    m = _TRAILING_NUMBER.search(stem)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------------------------
# Finding the snapshot units
# --------------------------------------------------------------------------------------------


def _format_of_file(path: Path) -> str | None:
    return _EXTENSIONS.get(path.suffix.lower())


def _expand_dir(directory: Path, fmt: str | None) -> tuple[str, list[Path]]:
    """Snapshot units inside a directory and their format."""
    if not directory.is_dir():
        raise InputError(f"{directory}: no such file or directory.")
    entries = sorted(directory.iterdir())
    if fmt in (None, "npz") and layer_files(directory):
        return "npz", [directory]
    npz_dirs = [e for e in entries if e.is_dir() and layer_files(e)]
    by_fmt: dict[str, list[Path]] = {}
    for e in entries:
        f = _format_of_file(e) if e.is_file() else None
        if f is not None:
            by_fmt.setdefault(f, []).append(e)
    if npz_dirs:
        by_fmt.setdefault("npz", [])
        by_fmt["npz"] = npz_dirs + by_fmt["npz"]
    if fmt is not None:
        units = by_fmt.get(fmt, [])
        if not units:
            raise InputError(f"{directory}: no {fmt} inputs found in this directory.")
        return fmt, units
    if not by_fmt:
        raise InputError(
            f"{directory}: found no .csv, .pt/.pth, .safetensors or .npz inputs (or weight_l*.npz "
            "directories); point at the files or pass --format."
        )
    if len(by_fmt) > 1:
        raise InputError(
            f"{directory}: holds several formats ({', '.join(sorted(by_fmt))}); pass --format "
            "to choose one."
        )
    ((found, units),) = by_fmt.items()
    return found, units


def _collect_units(paths: list[Path], fmt: str | None) -> tuple[str, list[tuple[Path, bool]]]:
    """(format, [(unit, came_from_directory_expansion)]) for all paths."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    units: list[tuple[Path, bool]] = []
    formats: set[str] = set()
    sparse_parents: list[Path] = []
    for p in paths:
        if p.is_dir():
            f, found = _expand_dir(p, fmt)
            formats.add(f)
            units += [(u, True) for u in found]
        elif p.is_file():
            f = fmt or _format_of_file(p)  # type: ignore[assignment]
            if f is None:
                raise InputError(
                    f"{p}: cannot tell the format from the extension {p.suffix!r}; pass --format "
                    f"({', '.join(FORMATS)})."
                )
            formats.add(f)
            if f == "npz" and is_sparse_file(p):
                # single weight_l*.npz files stand for the directory that holds them
                if p.parent not in sparse_parents:
                    sparse_parents.append(p.parent)
                    units.append((p.parent, False))
            else:
                units.append((p, False))
        else:
            raise InputError(f"{p}: no such file or directory.")
    if len(formats) > 1:
        raise InputError(
            f"inputs mix formats ({', '.join(sorted(formats))}); import one format at a time."
        )
    if not units:
        raise InputError("no input files given.")
    return formats.pop(), units


def _assign_steps(
    units: list[tuple[Path, bool]], steps: list[int] | None
) -> list[tuple[int, Path]]:
    if steps is not None:
        if len(steps) != len(units):
            raise InputError(
                f"got {len(steps)} steps for {len(units)} snapshots "
                f"({', '.join(str(u) for u, _ in units[:5])}...); give one step per snapshot."
            )
        checked = [check_step(s, "--steps value") for s in steps]
        if any(b <= a for a, b in itertools.pairwise(checked)):
            order = ", ".join(str(u) for u, _ in units[:3])
            raise InputError(
                f"--steps {','.join(map(str, checked))} must increase: the i-th step belongs to "
                f"the i-th input in the order {order}{'...' if len(units) > 3 else ''}. Give "
                "increasing steps."
            )
        pairs = list(zip(checked, (u for u, _ in units), strict=True))
    else:
        numbers = [step_from_name(u) for u, _ in units]
        for number, (unit, _) in zip(numbers, units, strict=True):
            if number is not None and number > MAX_STEP:
                raise InputError(
                    f"{unit}: the number {number} at the end of the name is taken as the step, "
                    f"but steps must be at most {MAX_STEP}; rename the file or pass --steps."
                )
        if all(n is not None for n in numbers):
            pairs = sorted(
                ((int(n or 0), u) for n, (u, _) in zip(numbers, units, strict=True)),
                key=lambda x: x[0],
            )
        else:
            if len(units) > 1 and any(n is not None for n in numbers):
                warnings.warn(
                    "file names do not all end in a step number; using the order "
                    "given (0, 1, 2, ...). Pass steps=[...] (--steps) to set them.",
                    stacklevel=3,
                )
            pairs = [(i, u) for i, (u, _) in enumerate(units)]
    seen: dict[int, Path] = {}
    for step, unit in pairs:
        if step in seen:
            raise InputError(
                f"step {step} is given twice ({seen[step]} and {unit}); each snapshot needs its "
                "own step: import them separately or pass steps=[...] (--steps)."
            )
        seen[step] = unit
    return pairs


# --------------------------------------------------------------------------------------------
# read_inputs
# --------------------------------------------------------------------------------------------


def _shape_summary(arch: Architecture) -> str:
    return ", ".join(f"{s.name} {s.n_in}x{s.n_out}" for s in arch.layers)


def _check_same(first: tuple[Path, Architecture], other: tuple[Path, Architecture]) -> None:
    (p0, a0), (p1, a1) = first, other
    if a0 != a1:
        raise InputError(
            f"architecture changes between snapshots of one import: {p0} has "
            f"[{_shape_summary(a0)}] but {p1} has [{_shape_summary(a1)}]. Import them as "
            "separate runs, or fix the files."
        )


def _snapshot(step: int, layers: dict[str, LayerEdges]) -> GraphSnapshot:
    return GraphSnapshot(layers=layers, step=step)


def _load_generic(
    reader: Callable[[], tuple[Architecture, dict[str, LayerEdges], int]],
    arch: Architecture,
    step: int,
    unit: Path,
) -> GraphSnapshot:
    found, layers, _ = reader()
    _check_same((Path("the import plan"), arch), (unit, found))
    return _snapshot(step, layers)


def _load_csv(unit: Path, step: int, n: int, allow_nonfinite: bool) -> GraphSnapshot:
    data = read_csv_edges(unit, allow_nonfinite)
    if data.max_index >= n:
        raise InputError(f"{unit}: changed since it was validated (unit {data.max_index} >= {n}).")
    return _snapshot(step, {"W_rec": data.edges})


def _keep(snapshot: GraphSnapshot, names: set[str]) -> GraphSnapshot:
    snapshot.layers = {k: v for k, v in snapshot.layers.items() if k in names}
    return snapshot


def _select(
    arch: Architecture, items: list[ImportItem], patterns: list[str]
) -> tuple[Architecture, list[ImportItem]]:
    from sparsetopo.ingest.matrices import MatrixRecipe, select_layers

    recipes = {s.name: MatrixRecipe(s.name) for s in arch.layers}
    sub, _ = select_layers(arch, recipes, patterns)
    names = {s.name for s in sub.layers}

    def load(loader: Callable[[], GraphSnapshot]) -> GraphSnapshot:
        return _keep(loader(), names)

    kept = [ImportItem(i.step, i.source, partial(load, i.loader)) for i in items]
    return sub, kept


def read_inputs(
    paths: list[str | Path],
    fmt: str | None = None,
    steps: list[int] | None = None,
    drop_bias: bool = True,
    allow_nonfinite: bool = False,
    mapping: dict | None = None,
    n: int | None = None,
    layers: list[str] | None = None,
) -> ImportPlan:
    """Validate every input and return an :class:`ImportPlan` (architecture + lazy loaders).

    paths: files and/or directories (expanded, sorted by the step number in each name).
    fmt:   "csv", "pt" or "npz"; default from the extension.
    steps: one step per snapshot, overriding the numbers in the names.
    drop_bias: npz only; keep the bias row as a one-unit "bias_l{k}" source group if False.
    allow_nonfinite: drop NaN/Inf weights (count in ``plan.dropped_nonfinite``) instead of
        raising.
    mapping: pt only; ``{"param.name": ("src_group", "dst_group")}`` instead of inference.
    n:     csv only; number of hidden units (default: max index + 1 over all files).
    layers: import only the layers whose name matches one of these globs.
    """
    fmt_found, units = _collect_units([Path(p) for p in paths], fmt)
    pairs = _assign_steps(units, steps)
    if mapping and fmt_found not in ("pt", "safetensors"):
        raise InputError(
            f"mapping= applies to .pt and .safetensors checkpoints only, not to {fmt_found} inputs."
        )
    dropped_by: dict[str, int] = {}
    items: list[ImportItem] = []
    if fmt_found == "csv":
        max_index = -1
        for _, unit in pairs:
            data = read_csv_edges(unit, allow_nonfinite)
            max_index = max(max_index, data.max_index)
            dropped_by[str(unit)] = data.dropped
        size = max_index + 1 if n is None else int(n)
        if size > MAX_GROUP_UNITS:
            raise InputError(
                f"n={size} hidden units is beyond the limit of {MAX_GROUP_UNITS:,} units per "
                "group (docs/ingest-formats.md); pass a smaller --n."
            )
        if max_index < 0 and n is None:
            raise InputError(
                f"{pairs[0][1] if len(pairs) == 1 else 'the CSV files'}: no edges, only a header "
                "(or nothing); give CSV edge lists with at least one row "
                "'Id,Source,Target,Weight', or pass --n to record empty snapshots."
            )
        if size <= max_index or size <= 0:
            raise InputError(
                f"n={size} hidden units is too small: the files use unit index {max_index}; "
                f"pass n >= {max_index + 1}."
            )
        arch = csv_architecture(size)
        for step, unit in pairs:
            loader = partial(_load_csv, unit, step, size, allow_nonfinite)
            items.append(ImportItem(step, str(unit), loader))
    else:
        reader_of: Callable[[Path], Callable[[], tuple[Architecture, dict[str, LayerEdges], int]]]
        if fmt_found == "pt":

            def reader_of(u: Path) -> Callable[[], Any]:
                from sparsetopo.ingest.formats.torch_ckpt import read_checkpoint  # needs torch

                return partial(read_checkpoint, u, mapping, allow_nonfinite)

        elif fmt_found == "safetensors":

            def reader_of(u: Path) -> Callable[[], Any]:
                from sparsetopo.ingest.formats.safetensors_ckpt import read_safetensors

                return partial(read_safetensors, u, mapping, allow_nonfinite)

        else:

            def reader_of(u: Path) -> Callable[[], Any]:
                return partial(read_npz_unit, u, drop_bias, allow_nonfinite)

        first: tuple[Path, Architecture] | None = None
        for step, unit in pairs:
            reader = reader_of(unit)
            found, _, bad = reader()
            dropped_by[str(unit)] = bad
            if first is None:
                first = (unit, found)
            else:
                _check_same(first, (unit, found))
            items.append(
                ImportItem(step, str(unit), partial(_load_generic, reader, found, step, unit))
            )
        assert first is not None
        arch = first[1]
        for spec in arch.layers:
            if spec.n_in <= 0 or spec.n_out <= 0:
                raise InputError(
                    f"{first[0]}: weight {spec.name!r} has {spec.n_out} row(s) and {spec.n_in} "
                    "column(s); a layer needs at least one of each. Remove that parameter from "
                    "the file or leave it out with mapping={...}."
                )
    if layers:
        arch, items = _select(arch, items, layers)
    check_unit_limits(arch, "input")
    total = sum(dropped_by.values())
    if total:
        warnings.warn(
            f"{total} NaN/Inf weight(s) will be dropped "
            f"({', '.join(f'{k}: {v}' for k, v in dropped_by.items() if v)}).",
            stacklevel=2,
        )
    return ImportPlan(arch, items, fmt_found, total, dropped_by)
