"""Run metadata and per-step metrics for imported runs (``sparsetopo ingest --task/--model/
--strategy --metrics FILE``), including the files that sit beside the checkpoints.

Metrics files:

* CSV (``.csv``/``.tsv``) with a ``step`` column: every other numeric column is a metric of the
  snapshot at that step;
* JSON: ``{"<step>": {"metric": value, ...}, ...}`` or ``[{"step": s, "metric": value}, ...]``;
* plain text, one number per line (``test_accuracy.txt``): the metric is named after the file and
  the values follow the snapshots in step order. With one value fewer than snapshots, the first
  snapshot (the network before training) has none.

Picked up automatically from an input directory (the layout of Zhang et al. 2023's result
folders): ``test_accuracy.txt``, ``train_accuracy.txt``, ``test_loss.txt``, ``train_loss.txt``
as metrics, and the scalar entries of ``hp.json`` as the run's hyperparameters (its
``rewiring_algorithm`` or ``pruning_algorithm`` as the strategy when none is given).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "test_accuracy.txt").write_text("0.5\\n0.75\\n")
>>> found = sidecar_metadata([d], steps=[0, 5, 10])
>>> found.metrics
{5: {'test_accuracy': 0.5}, 10: {'test_accuracy': 0.75}}
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sparsetopo.errors import InputError

#: Metric files picked up from an input directory.
SIDECAR_METRICS = ("test_accuracy.txt", "train_accuracy.txt", "test_loss.txt", "train_loss.txt")
_STRATEGY_KEYS = ("rewiring_algorithm", "pruning_algorithm", "strategy")


@dataclass
class RunMetadata:
    """What an import adds to its run: Run properties and metrics per step."""

    task: str | None = None
    model: str | None = None
    strategy: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was picked up or skipped, for the CLI

    def add_metrics(self, by_step: dict[int, dict[str, float]]) -> None:
        for step, values in by_step.items():
            self.metrics.setdefault(step, {}).update(values)


def _metric_name(text: str, where: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text.strip()).strip("_")
    if not name:
        raise InputError(f"{where}: empty metric name")
    return name


def _number(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {value!r} is not a number") from exc


def align_series(values: Sequence[float], steps: Sequence[int], name: str,
                 source: str) -> dict[int, dict[str, float]]:
    """One value per snapshot in step order (or per snapshot after the first, when there is one
    value fewer); InputError otherwise, naming both counts."""
    order = sorted(steps)
    if len(values) == len(order):
        targets = order
    elif len(values) == len(order) - 1:
        targets = order[1:]
    else:
        raise InputError(
            f"{source}: {len(values)} values for {len(order)} snapshots; a one-column metrics "
            "file needs one value per snapshot (or one fewer, none for the first). Use a CSV "
            "with a step column instead."
        )
    return {int(s): {name: float(v)} for s, v in zip(targets, values, strict=True)}


def read_metrics_file(path: str | Path, steps: Sequence[int]) -> dict[int, dict[str, float]]:
    """Metrics per step from ``path`` (formats in the module docstring), checked against the
    steps being imported: a step that is not among them is an InputError."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--metrics {p}: no such file")
    text = p.read_text(encoding="utf-8", errors="replace")
    suffix = p.suffix.lower()
    out: dict[int, dict[str, float]] = {}
    if suffix in (".csv", ".tsv"):
        rows = list(csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ","))
        if not rows or "step" not in rows[0]:
            raise InputError(f"--metrics {p}: a CSV metrics file needs a header with a 'step' "
                             "column and one column per metric")
        for i, row in enumerate(rows, start=2):
            step = int(_number(row["step"], f"{p} line {i}, column step"))
            values = {_metric_name(k, str(p)): _number(v, f"{p} line {i}, column {k}")
                      for k, v in row.items() if k != "step" and k is not None and v not in ("", None)}
            out.setdefault(step, {}).update(values)
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"--metrics {p}: not valid JSON ({exc})") from exc
        items: Any = data.items() if isinstance(data, dict) else (
            (r.get("step"), {k: v for k, v in r.items() if k != "step"})
            for r in data if isinstance(r, dict))
        for step, record in items:
            if not isinstance(record, dict):
                raise InputError(f"--metrics {p}: expected {{step: {{metric: value}}}} or a list "
                                 "of {\"step\": s, ...} records")
            s = int(_number(step, f"{p}: step"))
            out.setdefault(s, {}).update({_metric_name(k, str(p)): _number(v, f"{p} step {s}, {k}")
                                          for k, v in record.items()})
    else:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        series = [_number(ln, f"{p} line {i}") for i, ln in enumerate(lines, start=1)]
        out = align_series(series, steps, _metric_name(p.stem, str(p)), f"--metrics {p}")
    unknown = sorted(set(out) - {int(s) for s in steps})
    if unknown:
        raise InputError(f"--metrics {p}: steps {unknown[:10]} are not among the imported "
                         f"snapshots ({min(steps)}..{max(steps)})")
    return out


def _hyperparameters(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        scalar = isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value))
        if scalar or (isinstance(value, str) and len(value) <= 200):  # masks stored as strings: no
            out[str(key)] = value
    return out


def sidecar_metadata(paths: Sequence[str | Path], steps: Sequence[int]) -> RunMetadata:
    """Metadata found beside the inputs (directories only; see the module docstring). A metrics
    file whose length does not fit the snapshots is skipped with a note, not an error."""
    found = RunMetadata()
    for folder in (Path(p) for p in paths):
        if not folder.is_dir():
            continue
        for name in SIDECAR_METRICS:
            f = folder / name
            if not f.is_file():
                continue
            try:
                found.add_metrics(read_metrics_file(f, steps))
                found.notes.append(f"metric {f.stem} from {f}")
            except InputError as exc:
                found.notes.append(f"skipped {f}: {exc}")
        hp = folder / "hp.json"
        if hp.is_file():
            params = _hyperparameters(hp)
            found.config.setdefault("hyperparameters", {}).update(params)
            for key in _STRATEGY_KEYS:
                if params.get(key) and found.strategy is None:
                    found.strategy = str(params[key])
            found.notes.append(f"hyperparameters from {hp}")
    return found
