"""Runs as records: names and metadata rules, finding, listing, requiring and deleting a run.

Every command resolves a run name here once and passes the run record (its integer ``run_id``)
on, so no layer looks a run up twice.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from neo4j import Driver

from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.connection import READ
from sparsetopo.graphstore.lease import DEFAULT_TTL, is_live, new_owner_id
from sparsetopo.topology import Architecture, LayerSpec

__all__ = [
    "RESERVED",
    "architecture_from_json",
    "architecture_to_json",
    "check_metrics",
    "delete_run",
    "find_run",
    "list_runs",
    "require_run",
    "run_architecture",
    "run_configs",
    "validate_name",
]

#: Snapshot properties owned by sparsetopo; metrics may not use these names.
RESERVED = frozenset(
    {"run_id", "seq", "step", "epoch", "n_edges", "sparsity", "complete", "created_at", "source",
     "births", "deaths", "sign_flips"}
)
_NAME_MAX = 200


def validate_name(name: str, what: str = "run name") -> str:
    """Names are data (always passed as parameters), but must be printable and reasonably short."""
    example = "--run my-experiment" if what == "run name" else "'loss'" if what == "metric name" \
        else "'hidden'"
    if not isinstance(name, str):
        raise InputError(f"the {what} must be a string, not {type(name).__name__} ({name!r}); "
                         f"e.g. {example}")
    if not name.strip():
        raise InputError(f"the {what} is empty; give a non-empty name, e.g. {example}")
    if len(name) > _NAME_MAX:
        raise InputError(f"the {what} is {len(name)} characters long; use at most {_NAME_MAX}")
    if not name.isprintable():
        raise InputError(f"the {what} {name!r} contains control characters; use printable text")
    return name


def check_metrics(metrics: Mapping[str, Any] | None) -> dict[str, float | int | str | bool]:
    """Metrics as storable snapshot properties; InputError for reserved names or odd values."""
    out: dict[str, float | int | str | bool] = {}
    for key, value in (metrics or {}).items():
        validate_name(str(key), "metric name")
        if key in RESERVED:
            raise InputError(
                f"metric name {key!r} is reserved for sparsetopo's own snapshot properties "
                f"({', '.join(sorted(RESERVED))}); rename it, e.g. 'train_{key}'"
            )
        if isinstance(value, (bool, int, str)):
            out[key] = value
        else:
            try:
                number = float(value)
            except (TypeError, ValueError) as exc:
                raise InputError(
                    f"metric {key!r} has value {value!r} of type {type(value).__name__}; "
                    "metrics must be numbers, booleans or strings"
                ) from exc
            # NaN is kept: a NaN loss is a diverged run, which is worth seeing in the history.
            out[key] = number
    return out


def architecture_to_json(arch: Architecture) -> str:
    return json.dumps({"groups": arch.groups, "layers": [spec.__dict__ for spec in arch.layers]})


def architecture_from_json(text: str) -> Architecture:
    raw = json.loads(text)
    return Architecture(
        groups={k: int(v) for k, v in raw["groups"].items()},
        layers=tuple(LayerSpec(**spec) for spec in raw["layers"]),
    )


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def find_run(driver: Driver, name: str, database: str | None = None) -> dict[str, Any] | None:
    records, _, _ = driver.execute_query(
        "MATCH (r:Run {name: $name}) RETURN r {.*} AS run", name=name, database_=database,
        routing_=READ,
    )
    return dict(records[0]["run"]) if records else None


def delete_run(
    driver: Driver,
    name: str,
    database: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> bool:
    """Delete a run and everything it owns, in batches. The run is first marked 'deleting' (so
    listings skip it) and its writer lease is taken over (so a writer still writing it fails at
    its next transaction); an interrupted delete is finished by calling this again.

    Callers that must not interrupt a live writer check :func:`~sparsetopo.graphstore.lease.
    lease_state` first (``RunWriter(replace=True)`` does)."""
    run = find_run(driver, name, database)
    if run is None:
        return False
    run_id = run["run_id"]
    # Marking the run and taking its lease over under the Run node's write lock waits for a
    # writer's open transaction, and that writer's next fenced transaction then fails: nothing
    # can be added to a run while it is deleted.
    driver.execute_query(
        "MATCH (r:Run {run_id: $id}) SET r.status = 'deleting', r.lease_owner = $me, "
        "r.lease_expires_at = timestamp() + $ttl_ms",
        id=run_id, me="deleting:" + new_owner_id(), ttl_ms=int(DEFAULT_TTL * 1000),
        database_=database,
    )
    steps = (
        ("synapses", "MATCH ()-[s:SYNAPSE]->() WHERE s.run_id = $id AND s.born >= 0 "
         "CALL (s) { DELETE s } IN TRANSACTIONS OF 50000 ROWS"),
        ("weights", "MATCH (b:WeightBlock) WHERE b.run_id = $id "
         "CALL (b) { DETACH DELETE b } IN TRANSACTIONS OF 4 ROWS"),
        ("motifs", "MATCH (m:Motif) WHERE m.run_id = $id "
         "CALL (m) { DETACH DELETE m } IN TRANSACTIONS OF 10000 ROWS"),
        ("results", "MATCH (p:PartResult) WHERE p.run_id = $id "
         "CALL (p) { DETACH DELETE p } IN TRANSACTIONS OF 10000 ROWS"),
        ("snapshots", "MATCH (s:Snapshot) WHERE s.run_id = $id "
         "CALL (s) { DETACH DELETE s } IN TRANSACTIONS OF 1000 ROWS"),
        ("neurons", "MATCH (n:Neuron) WHERE n.run_id = $id "
         "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"),
        ("layers", "MATCH (l:Layer) WHERE l.run_id = $id DETACH DELETE l"),
        ("run", "MATCH (r:Run {run_id: $id}) DETACH DELETE r"),
    )
    with driver.session(database=database) as session:
        for label, statement in steps:
            if progress:
                progress(label)
            session.run(statement, id=run_id).consume()  # auto-commit: needed for IN TRANSACTIONS
    return True


def list_runs(driver: Driver, database: str | None = None) -> list[dict[str, Any]]:
    """Every run (except ones being deleted), oldest first, with snapshot counts.

    ``writer`` is the snapshot writer that last wrote it ("plugin" or "cypher").
    ``lease_owner`` and ``lease_live`` tell whether a writer holds the run now: a run with
    status ``recording`` and no live lease was interrupted (its writer stopped without
    finishing)."""
    records, _, _ = driver.execute_query(
        "MATCH (r:Run) WHERE coalesce(r.status, '') <> 'deleting' "
        "OPTIONAL MATCH (r)-[:HAS_SNAPSHOT]->(s:Snapshot {complete: true}) "
        "WITH r, count(s) AS n, max(s.step) AS last_step, min(s.sparsity) AS min_sparsity, "
        "max(s.sparsity) AS max_sparsity "
        "RETURN r.name AS name, r.run_id AS run_id, r.created_at AS created_at, r.model AS model, "
        "r.task AS task, r.strategy AS strategy, r.status AS status, n AS snapshots, "
        "last_step, min_sparsity, max_sparsity, r.writer AS writer, r.lease_owner AS lease_owner, "
        "r.lease_expires_at AS expires, timestamp() AS now ORDER BY r.created_at, r.name",
        database_=database, routing_=READ,
    )
    rows = []
    for r in records:
        row = dict(r)
        row["lease_live"] = is_live(row["lease_owner"], row.pop("expires"), row.pop("now"))
        rows.append(row)
    return rows


def require_run(driver: Driver, name: str, database: str | None = None) -> dict[str, Any]:
    run = find_run(driver, name, database)
    if run is None or run.get("status") == "deleting":
        known = [r["name"] for r in list_runs(driver, database)]
        hint = f"known runs: {', '.join(known[:20])}" if known else "the database holds no runs yet"
        raise StoreError(f"no run named {name!r} ({hint}). `sparsetopo runs` lists them.")
    return run


def run_architecture(driver: Driver, name: str, database: str | None = None) -> Architecture:
    return architecture_from_json(require_run(driver, name, database)["architecture_json"])


def run_configs(driver: Driver, database: str | None = None) -> dict[str, str | None]:
    """Every run's name -> its ``config_json`` (None when it has none), in one read."""
    records, _, _ = driver.execute_query(
        "MATCH (r:Run) RETURN r.name AS name, r.config_json AS config",
        database_=database, routing_=READ,
    )
    return {r["name"]: r["config"] for r in records}
