"""Batched, atomic writes of runs and snapshots (the only module that writes graph data).

A snapshot is written as a diff against the run's previous snapshot: new or sign-flipped edges get
a new SYNAPSE (born = seq), vanished or sign-flipped ones get died = seq, and the exact weights go
into columnar WeightBlock nodes. The Snapshot node is created with complete = false and marked
complete in the last transaction; an incomplete snapshot found later is rolled back, so a crash
never leaves half a snapshot visible. Every statement is parameterised.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from neo4j import Driver

from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.runs import (
    _now,
    architecture_from_json,
    architecture_to_json,
    check_metrics,
    delete_run,
    find_run,
    validate_name,
)
from sparsetopo.graphstore.schema import ensure_schema
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec

#: Rows per write transaction (DESIGN: 10k-50k).
CHUNK = 50_000
#: Entries per WeightBlock node.
WEIGHT_BLOCK = 250_000
@dataclass
class _LayerState:
    """Edges alive after the last complete snapshot, sorted by key, with their SYNAPSE ids."""

    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    signs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    rel_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))


@dataclass(frozen=True)
class WrittenSnapshot:
    run: str
    seq: int
    step: int
    n_edges: int
    births: int
    deaths: int
    flips: int


class RunWriter:
    """Writes the snapshots of one run, in step order, as diffs.

    >>> writer = RunWriter(driver, "mnist-prune", arch, meta={"task": "seq-digits"})  # doctest: +SKIP
    >>> writer.write(snapshot)                                                      # doctest: +SKIP
    """

    def __init__(
        self,
        driver: Driver,
        name: str,
        architecture: Architecture,
        meta: Mapping[str, Any] | None = None,
        database: str | None = None,
        replace: bool = False,
    ) -> None:
        self.driver = driver
        self.database = database
        self.name = validate_name(name)
        self.architecture = architecture
        for group in architecture.groups:
            validate_name(group, "neuron group name")
        for spec in architecture.layers:
            validate_name(spec.name, "layer name")
            if spec.src_group not in architecture.groups or spec.dst_group not in architecture.groups:
                raise InputError(
                    f"layer {spec.name!r} connects groups {spec.src_group!r} -> {spec.dst_group!r}, "
                    f"but the architecture only has groups {sorted(architecture.groups)}"
                )
        ensure_schema(driver, database)
        existing = find_run(driver, self.name, database)
        if existing is not None and (replace or existing.get("status") == "deleting"):
            delete_run(driver, self.name, database)
            existing = None
        self._state: dict[str, _LayerState] = {s.name: _LayerState() for s in architecture.layers}
        self.last_seq: int = -1
        self.last_step: int | None = None
        self._neuron_ids: dict[str, np.ndarray] = {}
        if existing is None:
            # An integer id keeps every SYNAPSE index entry small (a 32-character string key
            # tripled the index size); 53 bits stay exact in JavaScript, i.e. in Neo4j Browser.
            self.run_id: int = secrets.randbits(53)
            self._create_run(meta or {})
        else:
            self.run_id = existing["run_id"]
            stored = architecture_from_json(existing["architecture_json"])
            if stored != architecture:
                raise StoreError(
                    f"run {self.name!r} already exists with a different architecture "
                    f"(stored layers: {[s.name for s in stored.layers]}, shapes "
                    f"{[(s.n_in, s.n_out) for s in stored.layers]}). Choose another run name, "
                    "or pass --replace to overwrite the run."
                )
            self._resume()
        self._load_neuron_ids()

    # -- run creation / resume ----------------------------------------------------------------
    def _create_run(self, meta: Mapping[str, Any]) -> None:
        arch = self.architecture
        props = {
            "run_id": self.run_id,
            "name": self.name,
            "created_at": _now(),
            "model": str(meta.get("model") or ""),
            "task": str(meta.get("task") or ""),
            "strategy": str(meta.get("strategy") or ""),
            "config_json": json.dumps(meta.get("config") or {}, default=str, sort_keys=True),
            "architecture_json": architecture_to_json(arch),
            "status": "recording",
            "n_snapshots": 0,
        }
        layers = [
            {**spec.__dict__, "run_id": self.run_id, "gate": spec.gate or ""}
            for spec in arch.layers
        ]
        groups = [{"name": g, "size": n} for g, n in arch.groups.items()]

        def work(tx: Any) -> None:
            tx.run("CREATE (r:Run) SET r = $props", props=props).consume()
            tx.run(
                "MATCH (r:Run {run_id: $id}) UNWIND $layers AS l "
                "CREATE (r)-[:HAS_LAYER]->(x:Layer) SET x = l",
                id=self.run_id, layers=layers,
            ).consume()
            tx.run(
                "UNWIND $groups AS g UNWIND range(0, g.size - 1) AS i "
                "CREATE (:Neuron {run_id: $id, layer: g.name, index: i})",
                id=self.run_id, groups=groups,
            ).consume()

        with self.driver.session(database=self.database) as session:
            session.execute_write(work)

    def _load_neuron_ids(self) -> None:
        records, _, _ = self.driver.execute_query(
            "MATCH (n:Neuron) WHERE n.run_id = $id "
            "RETURN n.layer AS g, collect([n.index, elementId(n)]) AS ids",
            id=self.run_id, database_=self.database,
        )
        for record in records:
            size = self.architecture.groups[record["g"]]
            ids = np.empty(size, dtype=object)
            for index, element_id in record["ids"]:
                ids[index] = element_id
            self._neuron_ids[record["g"]] = ids

    def _resume(self) -> None:
        """Roll back an incomplete snapshot, then load the alive edges of the last one."""
        records, _, _ = self.driver.execute_query(
            "MATCH (s:Snapshot) WHERE s.run_id = $id RETURN s.seq AS seq, s.step AS step, "
            "s.complete AS complete ORDER BY seq",
            id=self.run_id, database_=self.database,
        )
        for record in records:
            if not record["complete"]:
                self._rollback(record["seq"])
        complete = [r for r in records if r["complete"]]
        self.last_seq = complete[-1]["seq"] if complete else -1
        self.last_step = complete[-1]["step"] if complete else None
        records, _, _ = self.driver.execute_query(
            "MATCH (a)-[r:SYNAPSE]->(b) WHERE r.run_id = $id AND r.born >= 0 AND r.died IS NULL "
            "RETURN r.layer AS layer, a.index AS s, b.index AS t, r.sign AS sign, "
            "elementId(r) AS rid",
            id=self.run_id, database_=self.database,
        )
        by_layer: dict[str, list[tuple[int, int, int, str]]] = {}
        for r in records:
            by_layer.setdefault(r["layer"], []).append((r["s"], r["t"], r["sign"], r["rid"]))
        for name, rows in by_layer.items():
            spec = self.architecture.layer(name)
            src = np.array([row[0] for row in rows], dtype=np.int64)
            dst = np.array([row[1] for row in rows], dtype=np.int64)
            keys = src * spec.n_out + dst
            order = np.argsort(keys)
            self._state[name] = _LayerState(
                keys=keys[order],
                signs=np.array([row[2] for row in rows], dtype=np.int8)[order],
                rel_ids=np.array([row[3] for row in rows], dtype=object)[order],
            )

    def _rollback(self, seq: int) -> None:
        with self.driver.session(database=self.database) as session:
            for statement in (
                "MATCH ()-[s:SYNAPSE]->() WHERE s.run_id = $id AND s.born = $seq "
                "CALL (s) { DELETE s } IN TRANSACTIONS OF 50000 ROWS",
                "MATCH ()-[s:SYNAPSE]->() WHERE s.run_id = $id AND s.died = $seq "
                "CALL (s) { REMOVE s.died } IN TRANSACTIONS OF 50000 ROWS",
                "MATCH (b:WeightBlock) WHERE b.run_id = $id AND b.seq = $seq DETACH DELETE b",
                "MATCH (m:Motif) WHERE m.run_id = $id AND m.seq = $seq DETACH DELETE m",
                "MATCH (s:Snapshot {run_id: $id, seq: $seq}) DETACH DELETE s",
            ):
                session.run(statement, id=self.run_id, seq=seq).consume()

    # -- writing ------------------------------------------------------------------------------
    def _check(self, snapshot: GraphSnapshot) -> None:
        names = {s.name for s in self.architecture.layers}
        unknown = set(snapshot.layers) - names
        if unknown:
            raise InputError(
                f"snapshot has layers {sorted(unknown)} that run {self.name!r} does not have "
                f"(its layers: {sorted(names)})"
            )
        if self.last_step is not None and snapshot.step <= self.last_step:
            raise StoreError(
                f"run {self.name!r} already has a snapshot at step {self.last_step} "
                f"(new step {snapshot.step} must be larger). Use --replace to overwrite the run, "
                "or another run name."
            )
        for name, edges in snapshot.layers.items():
            spec = self.architecture.layer(name)
            if len(edges) == 0:
                continue
            if edges.src.min() < 0 or edges.src.max() >= spec.n_in or edges.dst.min() < 0 or (
                edges.dst.max() >= spec.n_out
            ):
                raise InputError(
                    f"layer {name!r} has edge indices outside its shape ({spec.n_in}, {spec.n_out})"
                )
            if not np.all(np.isfinite(edges.w)):
                raise InputError(
                    f"layer {name!r} holds NaN or Inf weights; drop them first "
                    "(--allow-nonfinite) or fix the checkpoint"
                )

    def write(self, snapshot: GraphSnapshot, source: str | None = None) -> WrittenSnapshot:
        """Write one snapshot (its step must exceed the last stored step)."""
        self._check(snapshot)
        seq = self.last_seq + 1
        plans = []
        births = deaths = flips = 0
        for spec in self.architecture.layers:
            edges = snapshot.layers.get(spec.name) or LayerEdges.empty()
            keys = edges.keys(spec.n_out)
            order = np.argsort(keys, kind="stable")
            keys, w = keys[order], edges.w[order]
            if len(keys) > 1 and np.any(keys[1:] == keys[:-1]):
                raise InputError(f"layer {spec.name!r} lists the same edge twice")
            signs = np.where(w > 0, 1, -1).astype(np.int8)
            old = self._state[spec.name]
            common, i_new, i_old = np.intersect1d(keys, old.keys, assume_unique=True,
                                                  return_indices=True)
            flipped = signs[i_new] != old.signs[i_old]
            born_mask = np.ones(len(keys), dtype=bool)
            born_mask[i_new[~flipped]] = False
            died_mask = np.ones(len(old.keys), dtype=bool)
            died_mask[i_old[~flipped]] = False
            plans.append((spec, keys, w, signs, born_mask, died_mask, old))
            # Edge turnover, as overlap and the Cypher library count it: a sign flip is a flip,
            # not a death plus a birth (even though it ends one SYNAPSE and starts another).
            births += len(keys) - len(common)
            deaths += len(old.keys) - len(common)
            flips += int(flipped.sum())
        n_edges = sum(len(p[1]) for p in plans)
        capacity = sum(s.n_in * s.n_out for s in self.architecture.layers)
        props: dict[str, Any] = {
            **check_metrics(snapshot.metrics),
            "run_id": self.run_id,
            "seq": seq,
            "step": int(snapshot.step),
            "epoch": None if snapshot.epoch is None else int(snapshot.epoch),
            "n_edges": n_edges,
            "sparsity": 1.0 - n_edges / capacity if capacity else 0.0,
            "births": births,
            "deaths": deaths,
            "sign_flips": flips,
            "created_at": _now(),
            "source": source or "",
            "complete": False,
        }
        self.driver.execute_query(
            "MATCH (r:Run {run_id: $id}) CREATE (r)-[:HAS_SNAPSHOT]->(s:Snapshot) SET s = $props "
            "WITH r, s OPTIONAL MATCH (p:Snapshot {run_id: $id, seq: $prev}) "
            "FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (p)-[:NEXT]->(s))",
            id=self.run_id, props=props, prev=seq - 1, database_=self.database,
        )
        try:
            new_states = {}
            for spec, keys, w, signs, born_mask, died_mask, old in plans:
                self._write_deaths(spec, old.rel_ids[died_mask], seq)
                new_ids = self._write_births(spec, keys[born_mask], signs[born_mask], seq)
                rel_ids = np.empty(len(keys), dtype=object)
                rel_ids[born_mask] = new_ids
                if (~born_mask).any():
                    kept = old.keys[~died_mask]
                    rel_ids[~born_mask] = old.rel_ids[~died_mask][np.searchsorted(kept, keys[~born_mask])]
                self._write_weights(spec, keys, w, seq)
                new_states[spec.name] = _LayerState(keys=keys, signs=signs, rel_ids=rel_ids)
            self.driver.execute_query(
                "MATCH (r:Run {run_id: $id}) MATCH (s:Snapshot {run_id: $id, seq: $seq}) "
                "SET s.complete = true, r.n_snapshots = $seq + 1, r.last_step = s.step",
                id=self.run_id, seq=seq, database_=self.database,
            )
        except BaseException:
            self._rollback_quietly(seq)
            raise
        self._state.update(new_states)
        self.last_seq, self.last_step = seq, int(snapshot.step)
        return WrittenSnapshot(self.name, seq, int(snapshot.step), n_edges, births, deaths, flips)

    def _rollback_quietly(self, seq: int) -> None:
        # The server may be gone; then the next writer of this run rolls back on resume.
        with contextlib.suppress(Exception):
            self._rollback(seq)

    def _write_births(self, spec: LayerSpec, keys: np.ndarray, signs: np.ndarray, seq: int) -> np.ndarray:
        ids = np.empty(len(keys), dtype=object)
        src_ids = self._neuron_ids[spec.src_group]
        dst_ids = self._neuron_ids[spec.dst_group]
        for start in range(0, len(keys), CHUNK):
            part = keys[start:start + CHUNK]
            records, _, _ = self.driver.execute_query(
                "UNWIND range(0, size($a) - 1) AS i "
                "MATCH (a) WHERE elementId(a) = $a[i] MATCH (b) WHERE elementId(b) = $b[i] "
                "CREATE (a)-[r:SYNAPSE {run_id: $id, layer: $layer, born: $seq, sign: $sign[i]}]->(b) "
                "RETURN collect(elementId(r)) AS ids",
                a=src_ids[part // spec.n_out].tolist(),
                b=dst_ids[part % spec.n_out].tolist(),
                sign=signs[start:start + CHUNK].tolist(),
                id=self.run_id, layer=spec.name, seq=seq, database_=self.database,
            )
            ids[start:start + len(part)] = records[0]["ids"]
        return ids

    def _write_deaths(self, spec: LayerSpec, rel_ids: np.ndarray, seq: int) -> None:
        for start in range(0, len(rel_ids), CHUNK):
            self.driver.execute_query(
                "UNWIND $ids AS rid MATCH ()-[r]->() WHERE elementId(r) = rid SET r.died = $seq",
                ids=rel_ids[start:start + CHUNK].tolist(), seq=seq, database_=self.database,
            )

    def _write_weights(self, spec: LayerSpec, keys: np.ndarray, w: np.ndarray, seq: int) -> None:
        src = (keys // spec.n_out).astype(np.int64)
        dst = (keys % spec.n_out).astype(np.int64)
        for chunk, start in enumerate(range(0, max(len(keys), 1), WEIGHT_BLOCK)):
            end = start + WEIGHT_BLOCK
            self.driver.execute_query(
                "MATCH (s:Snapshot {run_id: $id, seq: $seq}) "
                "CREATE (s)-[:HAS_WEIGHTS]->(:WeightBlock {run_id: $id, seq: $seq, layer: $layer, "
                "chunk: $chunk, src: $src, dst: $dst, w: $w})",
                id=self.run_id, seq=seq, layer=spec.name, chunk=chunk,
                src=src[start:end].tolist(), dst=dst[start:end].tolist(),
                w=w[start:end].astype(np.float64).tolist(), database_=self.database,
            )

    def finish(self, status: str = "complete") -> None:
        self.driver.execute_query(
            "MATCH (r:Run {run_id: $id}) SET r.status = $status, r.finished_at = $at",
            id=self.run_id, status=status, at=_now(), database_=self.database,
        )
