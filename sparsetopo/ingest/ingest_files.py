"""Import checkpoint files into a run: the one path behind `sparsetopo ingest` and
:meth:`Store.ingest <sparsetopo.api.store.Store.ingest>`.

Reads and validates every input first (nothing is written for bad input), picks up sidecar
metadata (test_accuracy.txt, hp.json) and an optional metrics file, then writes the snapshots
or resumes an interrupted import of the same files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from neo4j import Driver

from sparsetopo.errors import InputError

_log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    """What an ingest wrote: the run, its format, written and skipped steps, turnover totals.

    ``notes`` are the informational lines about the input (dropped non-finite weights, sidecar
    files picked up) that the command line prints.
    """

    run: str
    format: str
    snapshots: int
    steps: list[int]
    edges_last: int
    births_total: int
    deaths_total: int
    sign_flips_total: int
    nonfinite_dropped: int
    skipped_already_stored: list[int]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data (what ``ingest --json`` prints)."""
        out = asdict(self)
        out.pop("notes")
        return out


def parse_steps(steps: str | Sequence[int] | None) -> list[int] | None:
    """``"0,10,20"`` or ``[0, 10, 20]`` -> list of int; None stays None.

    Examples
    --------
    >>> parse_steps("0, 10,20"), parse_steps(None)
    ([0, 10, 20], None)
    """
    if steps is None or steps == "":
        return None
    if isinstance(steps, str):
        try:
            return [int(s) for s in steps.split(",") if s.strip()]
        except ValueError:
            raise InputError("steps takes integers separated by commas, e.g. 0,10,20") from None
    try:
        return [int(s) for s in steps]
    except (TypeError, ValueError):
        raise InputError(f"steps must be integers, e.g. [0, 10, 20] (got {steps!r})") from None


def ingest_files(
    driver: Driver | Callable[[], Driver],
    paths: str | Path | Sequence[str | Path],
    run: str,
    *,
    fmt: str | None = None,
    steps: str | Sequence[int] | None = None,
    keep_bias: bool = False,
    allow_nonfinite: bool = False,
    replace: bool = False,
    n: int | None = None,
    layers: Sequence[str] | None = None,
    task: str | None = None,
    model: str | None = None,
    strategy: str | None = None,
    metrics: str | Path | Mapping[int, Mapping[str, float]] | None = None,
    database: str | None = None,
    stage: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestSummary:
    """Import checkpoint files as the snapshots of a run (the ``sparsetopo ingest`` command).

    Parameters
    ----------
    driver : neo4j.Driver or callable
        Open driver (without transaction retries: a failed import is resumed by running it
        again, never retried blindly), or a function that opens one, called only once the
        input is valid (bad input never touches the database).
    paths : sequence of path
        Files or directories (expanded, sorted by the step number in each name).
    run : str
        Run name to write into; an existing run is resumed (identical steps are skipped).
    fmt : {"csv", "pt", "safetensors", "npz"}, optional
        Input format; default from the extension.
    steps : str or sequence of int, optional
        One step per snapshot ("0,10,20"), overriding the numbers in the names.
    keep_bias : bool
        npz: keep the last (bias) row as a "bias" source unit.
    allow_nonfinite : bool
        Drop NaN/Inf weights (counted) instead of failing.
    replace : bool
        Delete an existing run of this name first.
    n : int, optional
        csv: number of units (default: largest index + 1).
    layers : sequence of str, optional
        Import only the layers whose name matches one of these globs (``--layers``).
    task, model, strategy : str, optional
        Stored on the run (strategy defaults to what hp.json says).
    metrics : path or mapping, optional
        Per-step metrics: a file (CSV with a step column, JSON, or one value per line), or
        ``{step: {name: value}}``.
    database : str, optional
        Neo4j database name.
    stage : callable, optional
        Called with a description when a stage starts ("reading and validating input files",
        "checking the input against the stored run", "ingesting into RUN").
    progress : callable, optional
        Called with (snapshots done, total) after each snapshot.

    Returns
    -------
    IngestSummary

    Raises
    ------
    InputError
        Bad input (checked before anything is written).
    StoreError
        The existing run does not match the input.
    ServerError
        The database failed while writing (running again resumes).
    """
    from sparsetopo.graphstore.runs import validate_name
    from sparsetopo.ingest.importers import read_inputs
    from sparsetopo.ingest.metadata import read_metrics_file, sidecar_metadata
    from sparsetopo.ingest.run_import import import_plan, plan_resume

    def say(what: str) -> None:
        _log.debug(what)
        if stage is not None:
            stage(what)

    validate_name(run)
    step_list = parse_steps(steps)
    path_list = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    say("reading and validating input files")
    plan = read_inputs(list(path_list), fmt=fmt, steps=step_list, drop_bias=not keep_bias,
                       allow_nonfinite=allow_nonfinite, n=n,
                       layers=list(layers) if layers else None)
    notes: list[str] = []
    if plan.dropped_nonfinite:
        notes.append(f"dropping {plan.dropped_nonfinite} NaN/Inf weight(s)")
    step_values = [item.step for item in plan.items]
    found = sidecar_metadata(list(path_list), step_values)
    if isinstance(metrics, Mapping):
        found.add_metrics({int(k): {str(m): float(v) for m, v in d.items()}
                           for k, d in metrics.items()})
    elif metrics is not None:
        found.add_metrics(read_metrics_file(metrics, step_values))
    notes.extend(found.notes)
    for note in notes:
        _log.debug(note)
    if not isinstance(driver, Driver):
        driver = driver()
    say("checking the input against the stored run")
    skip = [] if replace else plan_resume(driver, plan, run, database)
    say(f"ingesting into {run}")
    done = 0

    def advance(k: int) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(done, len(plan))

    result = import_plan(
        driver, plan, run,
        meta={"task": task, "model": model, "strategy": strategy or found.strategy,
              "config": {"ingested_from": [str(p) for p in path_list],
                         "format": plan.format, **found.config}},
        replace=replace, database=database, progress=advance, skip=skip,
        metrics=found.metrics,
    )
    written = result.written
    return IngestSummary(
        run=run, format=plan.format, snapshots=len(written), steps=[w.step for w in written],
        edges_last=written[-1].n_edges if written else 0,
        births_total=sum(w.births for w in written), deaths_total=sum(w.deaths for w in written),
        sign_flips_total=sum(w.flips for w in written),
        nonfinite_dropped=plan.dropped_nonfinite, skipped_already_stored=result.skipped,
        notes=notes,
    )
