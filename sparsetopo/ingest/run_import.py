"""Write an :class:`~sparsetopo.ingest.importers.ImportPlan` into a run, resuming where an
interrupted import of the same files stopped.

Everything that can be checked is checked before the first write: the plan itself (in
:func:`~sparsetopo.ingest.importers.read_inputs`), and against an existing run its architecture,
the steps it already stores (each must equal the input's snapshot of that step, which is then
skipped) and the order (new steps must come after the last stored one). Database failures while
writing become one-line :class:`~sparsetopo.errors.ServerError` messages that say how to resume.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError

from sparsetopo.errors import InputError, ServerError, StoreError
from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.graphstore.runs import architecture_from_json, delete_run, find_run, validate_name
from sparsetopo.graphstore.writer import RunWriter, WrittenSnapshot
from sparsetopo.ingest.importers import ImportPlan
from sparsetopo.topology import GraphSnapshot

_log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    """What :func:`import_plan` did: snapshots written, steps skipped as already stored."""

    run: str
    written: list[WrittenSnapshot] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


def same_snapshot(a: GraphSnapshot, b: GraphSnapshot) -> bool:
    """True when both hold exactly the same edges and float32 weights in every layer.

    Examples
    --------
    >>> from sparsetopo.topology import LayerEdges
    >>> e = LayerEdges([0], [1], [0.5])
    >>> same_snapshot(GraphSnapshot({"W": e}), GraphSnapshot({"W": e}))
    True
    """
    for name in set(a.layers) | set(b.layers):
        x, y = a.layers.get(name), b.layers.get(name)
        if x is None or y is None:
            if (x is not None and len(x)) or (y is not None and len(y)):
                return False
            continue
        if not (np.array_equal(x.src, y.src) and np.array_equal(x.dst, y.dst)
                and np.array_equal(x.w, y.w)):
            return False
    return True


def _lost(exc: BaseException, run: str, where: str) -> ServerError:
    text = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
    return ServerError(
        f"the database failed while writing {where} into run {run!r} ({type(exc).__name__}: "
        f"{text}). Snapshots written so far are complete; run the same command again to resume."
    )


def plan_resume(
    driver: Driver, plan: ImportPlan, run: str, database: str | None = None
) -> list[int]:
    """Steps of `plan` that run `run` already stores identically (to be skipped); see
    :func:`_plan_resume`. Database failures become a one-line ServerError."""
    try:
        return _plan_resume(driver, plan, run, database)
    except (DriverError, Neo4jError) as exc:
        raise _lost(exc, run, "the check against the stored run") from exc


def _plan_resume(
    driver: Driver, plan: ImportPlan, run: str, database: str | None = None
) -> list[int]:
    """Steps of `plan` that run `run` already stores identically (to be skipped).

    Raises
    ------
    StoreError
        The run has another architecture, stores a step of the plan with other weights, or
        stores steps after a step of the plan that it lacks.
    """
    existing = find_run(driver, run, database)
    if existing is None or existing.get("status") == "deleting":
        return []
    stored_arch = architecture_from_json(existing["architecture_json"])
    if stored_arch != plan.architecture:
        raise StoreError(
            f"run {run!r} already exists with a different architecture (stored layers: "
            f"{[(s.name, s.n_in, s.n_out) for s in stored_arch.layers]}); choose another run "
            "name, or pass --replace to overwrite the run."
        )
    stored = {int(s["step"]) for s in list_snapshots(driver, run, database)}
    last = max(stored) if stored else None
    skip: list[int] = []
    for item in plan.items:
        if item.step in stored:
            if not same_snapshot(plan.load(item), read_snapshot(driver, run, step=item.step,
                                                                database=database)):
                raise StoreError(
                    f"run {run!r} already has step {item.step}, with other weights than "
                    f"{item.source}. Pass --replace to overwrite the run, or choose another "
                    "run name."
                )
            skip.append(item.step)
        elif last is not None and item.step < last:
            raise StoreError(
                f"{item.source}: step {item.step} comes before step {last}, the last one run "
                f"{run!r} stores, and snapshots are appended in step order. Pass --replace to "
                "rewrite the run, or choose another run name."
            )
    return skip


def import_plan(
    driver: Driver,
    plan: ImportPlan,
    run: str,
    meta: Mapping[str, Any] | None = None,
    replace: bool = False,
    database: str | None = None,
    progress: Callable[[int], None] | None = None,
    skip: list[int] | None = None,
    metrics: Mapping[int, Mapping[str, Any]] | None = None,
) -> ImportResult:
    """Write `plan` into run `run`, or resume an interrupted import of it.

    Parameters
    ----------
    driver : neo4j.Driver
    plan : ImportPlan
        From :func:`~sparsetopo.ingest.importers.read_inputs` (already validated).
    run : str
        Run name. If it exists (and `replace` is False), steps it already stores must equal
        the plan's and are skipped; the remaining steps must come after its last step.
    meta : Mapping, optional
        Run metadata for a new run (task, strategy, model, config).
    replace : bool
        Delete an existing run of that name first.
    database : str, optional
    progress : callable, optional
        Called with 1 after each snapshot (written or skipped).
    skip : list of int, optional
        The result of :func:`plan_resume` when the caller already ran it.
    metrics : Mapping, optional
        Step -> extra metrics stored on that snapshot (e.g. from a metrics file).

    Returns
    -------
    ImportResult

    Raises
    ------
    StoreError
        The existing run does not match the input (see :func:`plan_resume`).
    ServerError
        The database failed while writing (one line; running again resumes).
    InputError
        An input file changed after it was validated; a run this call created without
        writing any snapshot is deleted again.
    """
    validate_name(run)
    result = ImportResult(run)
    try:
        if replace:
            skipped: set[int] = set()
        else:
            skipped = set(skip if skip is not None else plan_resume(driver, plan, run, database))
        new_run = replace or find_run(driver, run, database) is None
        writer = RunWriter(driver, run, plan.architecture, meta, database=database,
                           replace=replace, retry=False)
    except (DriverError, Neo4jError) as exc:
        raise _lost(exc, run, "the run") from exc
    item = None
    try:
        with writer:  # releases the lease on any exit
            for item in plan.items:
                if item.step in skipped:
                    result.skipped.append(item.step)
                else:
                    snap = plan.load(item)
                    snap.metrics.update((metrics or {}).get(item.step, {}))
                    result.written.append(writer.write(snap, source=item.source))
                if progress:
                    progress(1)
            writer.finish()
    except InputError:
        if new_run and not result.written:
            try:
                delete_run(driver, run, database)  # a failed import leaves no run behind
            except (DriverError, Neo4jError) as exc:
                _log.warning("could not delete the empty run %r again: %s", run, exc)
        raise
    except (DriverError, Neo4jError) as exc:
        where = f"{item.source} (step {item.step})" if item is not None else "the run"
        raise _lost(exc, run, where) from exc
    if result.skipped:
        _log.debug("run %r: skipped %d step(s) already stored", run, len(result.skipped))
    return result
