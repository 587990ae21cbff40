"""Reading many snapshots of one run in one round trip (what ``Store.analyze`` needs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from neo4j import Driver

from sparsetopo.errors import StoreError
from sparsetopo.graphstore.connection import READ
from sparsetopo.graphstore.runs import architecture_from_json, require_run
from sparsetopo.topology import LayerEdges

__all__ = [
    "read_snapshots_edges",
]


def read_snapshots_edges(
    driver: Driver, name: str, seqs: Sequence[int], database: str | None = None,
    run: Mapping[str, Any] | None = None,
) -> dict[int, dict[str, LayerEdges]]:
    """The exact weights of the complete snapshots ``seqs`` of run ``name``: one query for all.

    Parameters
    ----------
    driver : neo4j.Driver
        Connection.
    name : str
        Run name.
    seqs : sequence of int
        Snapshot sequence numbers.
    database : str or None
        Database name.
    run : mapping, optional
        The run's record when the caller resolved it already (else it is looked up).

    Returns
    -------
    dict
        seq -> {layer name: LayerEdges} (every layer of the architecture, empty ones included).

    Raises
    ------
    StoreError
        If a requested snapshot is missing or incomplete.
    """
    if not seqs:
        return {}
    if run is None:
        run = require_run(driver, name, database)
    arch = architecture_from_json(run["architecture_json"])
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot) WHERE s.run_id = $id AND s.seq IN $seqs AND s.complete = true "
        "OPTIONAL MATCH (s)-[:HAS_WEIGHTS]->(b:WeightBlock) "
        "WITH s, b ORDER BY s.seq, b.layer, b.chunk "
        "RETURN s.seq AS seq, collect([b.layer, b.src, b.dst, b.w]) AS blocks",
        id=run["run_id"], seqs=[int(s) for s in seqs], database_=database, routing_=READ,
    )
    out: dict[int, dict[str, LayerEdges]] = {}
    for rec in records:
        parts: dict[str, list[tuple[list[int], list[int], list[float]]]] = {}
        for layer, src, dst, w in rec["blocks"]:
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
        out[int(rec["seq"])] = layers
    missing = sorted(set(int(s) for s in seqs) - set(out))
    if missing:
        raise StoreError(f"run {name!r} has no complete snapshot with seq {missing[0]}")
    return out
