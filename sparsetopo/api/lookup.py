"""A run looked up once, and the checks made against it.

:func:`resolve_run` turns a run name into a :class:`ResolvedRun` (one read); every
:class:`~sparsetopo.api.store.Store` method resolves its run once and hands the record (its
integer ``run_id`` and architecture) down, so no layer looks the run up again. The checks of a
step, a layer or a query parameter raise errors that list the valid names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver

from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.reader import snapshots_of
from sparsetopo.graphstore.runs import architecture_from_json, require_run
from sparsetopo.topology import Architecture

__all__ = [
    "ResolvedRun",
    "check_query_params",
    "listing",
    "params_int",
    "require_layer",
    "require_step",
    "resolve_run",
    "seq_at",
    "steps_of",
]


@dataclass(frozen=True)
class ResolvedRun:
    """A run as stored: what its name resolved to.

    Attributes
    ----------
    name : str
        The run's name.
    run_id : int
        Its id (what every stored node of the run carries).
    architecture : Architecture
        Its groups and layers.
    record : dict
        Every property of the Run node (``architecture_json`` included).
    """

    name: str
    run_id: int
    architecture: Architecture
    record: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_record(cls, name: str, record: Mapping[str, Any]) -> ResolvedRun:
        """Build it from a Run node's properties (``graphstore.runs.require_run``)."""
        return cls(name, int(record["run_id"]), architecture_from_json(record["architecture_json"]),
                   dict(record))


def resolve_run(driver: Driver, name: str, database: str | None = None) -> ResolvedRun:
    """Look a run up by name (a read).

    Raises
    ------
    StoreError
        If no run has that name (the message lists the known runs).
    """
    return ResolvedRun.from_record(name, require_run(driver, name, database))


def params_int(name: str, value: Any) -> int:
    """Check an integer parameter.

    Floats with an integral value (as the Browser's ``:params`` makes them) are accepted,
    anything else is an InputError naming the parameter.

    Examples
    --------
    >>> params_int("step", 200.0), params_int("step", "+5")
    (200, 5)
    """
    if isinstance(value, bool):
        raise InputError(f"parameter {name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise InputError(f"parameter {name} must be an integer, got {value!r}")


def listing(values: Sequence[Any], head: int = 12, tail: int = 4) -> str:
    """``0, 5, 10`` or, for long lists, ``0, 5, ..., 200 (41 in all)``.

    Examples
    --------
    >>> listing(range(0, 25, 5))
    '0, 5, 10, 15, 20'
    >>> listing(range(20), head=2, tail=1)
    '0, 1, ..., 19 (20 in all)'
    """
    items = [str(v) for v in values]
    if len(items) <= head + tail:
        return ", ".join(items)
    return f"{', '.join(items[:head])}, ..., {', '.join(items[-tail:])} ({len(items)} in all)"


def steps_of(driver: Driver, run: ResolvedRun, database: str | None = None) -> list[int]:
    """Return the steps of the run's complete snapshots, in order (a read)."""
    return [int(s["step"]) for s in snapshots_of(driver, run.run_id, database)]


def seq_at(driver: Driver, run: ResolvedRun, step: int, database: str | None = None) -> int:
    """Return the seq of the run's complete snapshot at ``step`` (StoreError listing the steps)."""
    snaps = snapshots_of(driver, run.run_id, database)
    for s in snaps:
        if int(s["step"]) == int(step):
            return int(s["seq"])
    steps = [int(s["step"]) for s in snaps]
    raise StoreError(
        f"run {run.name!r} has no complete snapshot at step {step}; its steps: "
        f"{listing(steps) if steps else 'none yet'}"
    )


def require_step(driver: Driver, run: ResolvedRun, step: int, database: str | None = None) -> int:
    """``step`` if the run has a complete snapshot there, else StoreError listing the steps."""
    seq_at(driver, run, step, database)
    return int(step)


def require_layer(run: ResolvedRun, layer: Any) -> str:
    """``layer`` if the run has a weight layer of that name, else StoreError listing them."""
    names = [spec.name for spec in run.architecture.layers]
    if layer not in names:
        raise StoreError(f"run {run.name!r} has no layer {layer!r}; its layers: {', '.join(names)}")
    return str(layer)


def check_query_params(driver: Driver, params: Mapping[str, Any],
                       database: str | None = None) -> None:
    """Raise a StoreError naming the valid ones for a missing run, step or layer.

    The library's APOC check lines do the same in the Browser. Each run named in ``params``
    is looked up once.
    """
    for key in ("step", "step_a", "step_b", "limit", "k", "neuron"):
        if key in params:
            params_int(key, params[key])
    for run_key, step_keys in (("run", ("step", "step_a", "step_b")),
                               ("run_a", ("step_a",)), ("run_b", ("step_b",))):
        if run_key not in params:
            continue
        name = params[run_key]
        if not isinstance(name, str):
            raise InputError(f"parameter {run_key} must be a run name (a string), got {name!r}")
        run = resolve_run(driver, name, database)
        for step_key in step_keys:
            if step_key in params and (run_key == "run" or step_key[-1] == run_key[-1]):
                require_step(driver, run, params_int(step_key, params[step_key]), database)
        if run_key == "run" and "layer" in params:
            require_layer(run, params["layer"])
