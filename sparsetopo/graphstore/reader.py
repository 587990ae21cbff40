"""Reading runs back: one snapshot's exact weights in one round trip, edge lifetimes for the
masks of many snapshots at once, and a user's Cypher statement with its values made plain.

Every function here is a read (``routing_=READ``), so a cluster serves it from a reader; the
functions that take a run name also take the run record already resolved (``run=``), so a
caller that looked the run up once does not look it up again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from neo4j import Driver
from neo4j.exceptions import ClientError
from neo4j.graph import Node, Relationship
from neo4j.graph import Path as GraphPath

from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.connection import READ
from sparsetopo.graphstore.runs import RESERVED, architecture_from_json, require_run
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges

__all__ = [
    "Lifetimes",
    "list_snapshots",
    "plain",
    "read_lifetimes",
    "read_snapshot",
    "run_statement",
    "snapshot_keys",
    "snapshots_of",
]


def list_snapshots(driver: Driver, name: str, database: str | None = None) -> list[dict[str, Any]]:
    """All complete snapshots of a run with every stored property, in order."""
    return snapshots_of(driver, require_run(driver, name, database)["run_id"], database)


def snapshots_of(driver: Driver, run_id: int, database: str | None = None) -> list[dict[str, Any]]:
    """All complete snapshots of the run with this id, every stored property, in order (a read)."""
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot) WHERE s.run_id = $id AND s.complete = true "
        "RETURN s {.*} AS s ORDER BY s.seq",
        id=run_id, database_=database, routing_=READ,
    )
    return [dict(r["s"]) for r in records]


def snapshot_keys(driver: Driver, run_id: int, database: str | None = None) -> list[str]:
    """Sorted names of the properties stored on the run's snapshots (a read)."""
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot {run_id: $id}) UNWIND keys(s) AS k RETURN collect(DISTINCT k) AS ks",
        id=run_id, database_=database, routing_=READ,
    )
    return sorted(records[0]["ks"])


def _resolve_seq(
    driver: Driver, run_id: int, name: str, step: int | None, seq: int | None, database: str | None
) -> int:
    if seq is not None:
        return int(seq)
    if step is None:
        records, _, _ = driver.execute_query(
            "MATCH (s:Snapshot) WHERE s.run_id = $id AND s.complete = true RETURN max(s.seq) AS seq",
            id=run_id, database_=database, routing_=READ,
        )
    else:
        records, _, _ = driver.execute_query(
            "MATCH (s:Snapshot) WHERE s.run_id = $id AND s.step = $step AND s.complete = true "
            "RETURN s.seq AS seq",
            id=run_id, step=int(step), database_=database, routing_=READ,
        )
    if not records or records[0]["seq"] is None:
        what = f"at step {step}" if step is not None else "at all"
        raise StoreError(
            f"run {name!r} has no complete snapshot {what}. `sparsetopo run show {name}` lists "
            "its steps."
        )
    return int(records[0]["seq"])


def read_snapshot(
    driver: Driver,
    name: str,
    step: int | None = None,
    seq: int | None = None,
    database: str | None = None,
    run: Mapping[str, Any] | None = None,
) -> GraphSnapshot:
    """The exact weights of one complete snapshot (the last one when step and seq are None).

    ``run`` is the run's record when the caller resolved it already (else it is looked up)."""
    if run is None:
        run = require_run(driver, name, database)
    arch = architecture_from_json(run["architecture_json"])
    seq = _resolve_seq(driver, run["run_id"], name, step, seq, database)
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot {run_id: $id, seq: $seq}) WHERE s.complete = true "
        "OPTIONAL MATCH (s)-[:HAS_WEIGHTS]->(b:WeightBlock) "
        "WITH s, b ORDER BY b.layer, b.chunk "
        "RETURN s {.*} AS s, collect([b.layer, b.src, b.dst, b.w]) AS blocks",
        id=run["run_id"], seq=seq, database_=database, routing_=READ,
    )
    if not records:
        raise StoreError(f"run {name!r} has no complete snapshot with seq {seq}")
    props = dict(records[0]["s"])
    parts: dict[str, list[tuple[list[int], list[int], list[float]]]] = {}
    for layer, src, dst, w in records[0]["blocks"]:
        if layer is not None:
            parts.setdefault(layer, []).append((src, dst, w))
    layers = {}
    for spec in arch.layers:
        chunks = parts.get(spec.name, [])
        if not chunks:
            layers[spec.name] = LayerEdges.empty()
            continue
        layers[spec.name] = LayerEdges(
            np.concatenate([np.asarray(c[0], dtype=np.int32) for c in chunks]),
            np.concatenate([np.asarray(c[1], dtype=np.int32) for c in chunks]),
            np.concatenate([np.asarray(c[2], dtype=np.float32) for c in chunks]),
        )
    metrics = {
        k: v for k, v in props.items()
        if k not in RESERVED and isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    return GraphSnapshot(layers=layers, step=int(props["step"]), epoch=props.get("epoch"),
                         metrics=metrics)


@dataclass
class Lifetimes:
    """Every SYNAPSE of one layer: endpoints, sign and the [born, died) interval of seqs."""

    src: np.ndarray
    dst: np.ndarray
    sign: np.ndarray
    born: np.ndarray
    died: np.ndarray  # the run's snapshot count stands in for "still alive"

    def alive_at(self, seq: int) -> np.ndarray:
        return (self.born <= seq) & (seq < self.died)

    def mask(self, seq: int, n_in: int, n_out: int) -> np.ndarray:
        """Signed mask (+1 / -1 / 0) of snapshot `seq`."""
        out = np.zeros((n_in, n_out), dtype=np.int8)
        alive = self.alive_at(seq)
        out[self.src[alive], self.dst[alive]] = self.sign[alive]
        return out


def read_lifetimes(
    driver: Driver, name: str, database: str | None = None
) -> tuple[Architecture, dict[str, Lifetimes], int]:
    """All edge lifetimes of a run (masks of every snapshot) in one query per run."""
    run = require_run(driver, name, database)
    arch = architecture_from_json(run["architecture_json"])
    n_snap = int(run.get("n_snapshots") or 0)
    out: dict[str, Lifetimes] = {}
    for spec in arch.layers:
        records, _, _ = driver.execute_query(
            "MATCH (a)-[r:SYNAPSE]->(b) WHERE r.run_id = $id AND r.born >= 0 AND r.layer = $layer "
            "RETURN collect(a.index) AS s, collect(b.index) AS t, collect(r.sign) AS g, "
            "collect(r.born) AS born, collect(coalesce(r.died, $end)) AS died",
            id=run["run_id"], layer=spec.name, end=n_snap, database_=database, routing_=READ,
        )
        r = records[0]
        out[spec.name] = Lifetimes(
            np.asarray(r["s"], dtype=np.int32), np.asarray(r["t"], dtype=np.int32),
            np.asarray(r["g"], dtype=np.int8), np.asarray(r["born"], dtype=np.int32),
            np.asarray(r["died"], dtype=np.int32),
        )
    return arch, out, n_snap


#: Server answers to a write sent in a read transaction (standalone / cluster reader).
_WRITE_REFUSED = ("Neo.ClientError.Statement.AccessMode", "Neo.ClientError.Cluster.NotALeader")


def run_statement(
    driver: Driver, text: str, params: dict[str, Any], database: str | None, read_only: bool
) -> tuple[list[Any], list[str]]:
    """Run a user's Cypher statement: sent as a read (a cluster's readers serve it), re-sent as
    a write when the server says it writes, unless ``read_only`` (then an InputError).

    Returns the records and the column names."""
    try:
        records, _, keys = driver.execute_query(text, params, database_=database, routing_=READ)
    except ClientError as exc:
        if exc.code not in _WRITE_REFUSED:
            raise
        if read_only:
            raise InputError(
                "this statement writes to the database, but it ran read-only; "
                "`sparsetopo cypher` writes only with --write"
            ) from exc
        records, _, keys = driver.execute_query(text, params, database_=database)
    return list(records), list(keys)


def plain(value: Any) -> Any:
    """A driver value as plain Python: nodes and relationships become property dicts (with
    ``_labels`` / ``_type``), paths lists of node dicts, temporal values Python ones."""
    if isinstance(value, (Node, Relationship)):
        out = dict(value)
        if isinstance(value, Relationship):
            out["_type"] = value.type
        else:
            out["_labels"] = sorted(value.labels)
        return out
    if isinstance(value, GraphPath):
        return [plain(n) for n in value.nodes]
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "to_native"):
        return value.to_native()
    return value
