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
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from neo4j import Driver
from neo4j.exceptions import ConstraintError

from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.backend import WriterChoice, choose_writer
from sparsetopo.graphstore.lease import (
    DEFAULT_TTL,
    Heartbeat,
    LeaseHeldError,
    LeaseLostError,
    acquire,
    fence,
    held_message,
    holder_is_gone,
    lease_state,
    new_owner_id,
    release,
)
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
#: Relationship operations per transaction of the plugin writer.
PLUGIN_CHUNK = 200_000

_log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["CHUNK", "PLUGIN_CHUNK", "WEIGHT_BLOCK", "LeaseHeldError", "LeaseLostError",
           "RunWriter", "WriterChoice", "WrittenSnapshot"]

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
    """Writes the snapshots of one run, in step order, as diffs, holding the run's lease.

    Only one writer may write a run at a time (docs/decisions/0003-writer-lease.md): the
    constructor acquires a lease on the Run node, every write transaction starts with a fence
    that checks and renews it, a heartbeat thread renews it while the writer is idle, and
    :meth:`finish` / :meth:`close` release it. A crashed writer's lease expires after
    ``lease_ttl`` seconds; only then can another writer take the run over, roll back the
    crashed writer's incomplete snapshot and continue.

    Parameters
    ----------
    driver
        An open Neo4j driver.
    name
        The run's name (created if it does not exist, resumed otherwise).
    architecture
        The run's layers and neuron groups (must equal the stored one when resuming).
    meta
        Run metadata for a new run: ``model``, ``task``, ``strategy``, ``config``.
    database
        The Neo4j database (None: the server's default).
    replace
        Delete an existing run of this name first (refused while another writer holds it).
    lease_ttl
        Seconds a lease lives without renewal; a crashed writer blocks its run this long.
    owner
        The writer id (default: a new random one). A client that reconnects after an outage
        passes its previous id to take its own lease back.
    retry
        True: each transaction is a managed one that the driver retries on transient errors.
        False: explicit transactions that fail fast (for callers with their own retry loop,
        such as the Recorder).
    writer
        "auto" (the server-side plugin if the server has the matching version, else Cypher),
        "plugin" or "cypher"; None: $SPARSETOPO_WRITER, else "auto". Both write the same data.

    Raises
    ------
    LeaseHeldError
        Another writer holds a live lease on the run.
    StoreError
        The run exists with another architecture.
    InputError
        Bad names or an inconsistent architecture.

    Examples
    --------
    >>> with RunWriter(driver, "mnist-prune", arch, meta={"task": "seq-digits"}) as writer:  # doctest: +SKIP
    ...     writer.write(snapshot)
    ...     writer.finish()
    """

    def __init__(
        self,
        driver: Driver,
        name: str,
        architecture: Architecture,
        meta: Mapping[str, Any] | None = None,
        database: str | None = None,
        replace: bool = False,
        lease_ttl: float = DEFAULT_TTL,
        owner: str | None = None,
        retry: bool = True,
        writer: str | None = None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.name = validate_name(name)
        self.architecture = architecture
        if not lease_ttl > 0:
            raise InputError(f"lease_ttl must be a positive number of seconds, got {lease_ttl!r}")
        self.lease_ttl = float(lease_ttl)
        self.owner = owner or new_owner_id()
        self.retry = retry
        self._lost: BaseException | None = None
        self._released = False
        for group in architecture.groups:
            validate_name(group, "neuron group name")
        for spec in architecture.layers:
            validate_name(spec.name, "layer name")
            if spec.src_group not in architecture.groups or spec.dst_group not in architecture.groups:
                raise InputError(
                    f"layer {spec.name!r} connects groups {spec.src_group!r} -> {spec.dst_group!r}, "
                    f"but the architecture only has groups {sorted(architecture.groups)}"
                )
        self.writer = choose_writer(driver, database, writer)
        self._plugin = self.writer.backend == "plugin"
        self._id_dtype: Any = np.int64 if self._plugin else object
        ensure_schema(driver, database)
        existing = find_run(driver, self.name, database)
        if existing is not None and existing.get("status") != "deleting" and replace:
            state = lease_state(driver, existing["run_id"], database)
            if (state is not None and state.live and state.holder != self.owner
                    and not holder_is_gone(state.holder)):
                raise LeaseHeldError(held_message(self.name, state.holder or "?",
                                                  state.remaining_s * 1000))
        if existing is not None and (replace or existing.get("status") == "deleting"):
            delete_run(driver, self.name, database)
            existing = None
        self._state: dict[str, _LayerState] = {s.name: _LayerState() for s in architecture.layers}
        self.last_seq: int = -1
        self.last_step: int | None = None
        self._neuron_ids: dict[str, np.ndarray] = {}
        #: True when this writer created the run (it did not exist, or was replaced).
        self.created = existing is None
        if existing is None:
            # An integer id keeps every SYNAPSE index entry small (a 32-character string key
            # tripled the index size); 53 bits stay exact in JavaScript, i.e. in Neo4j Browser.
            self.run_id: int = secrets.randbits(53)
            try:
                self._create_run(meta or {})
            except ConstraintError:  # another writer created the same run name just now
                existing = find_run(driver, self.name, database)
                if existing is None:
                    raise
                self.created = False
        if existing is not None:
            self.run_id = existing["run_id"]
            stored = architecture_from_json(existing["architecture_json"])
            if stored != architecture:
                raise StoreError(
                    f"run {self.name!r} already exists with a different architecture "
                    f"(stored layers: {[s.name for s in stored.layers]}, shapes "
                    f"{[(s.n_in, s.n_out) for s in stored.layers]}). Choose another run name, "
                    "or pass --replace to overwrite the run."
                )
            def take(tx: Any) -> None:
                acquire(tx, self.run_id, self.owner, self.lease_ttl, self.name)
                tx.run("MATCH (r:Run {run_id: $id}) SET r.writer = $writer",
                       id=self.run_id, writer=self.writer.backend).consume()

            self._transaction(take, fenced=False)
        self._heartbeat = Heartbeat(self, _renewer(driver, database, self.run_id, self.owner,
                                                   self.lease_ttl, self.name), self.lease_ttl)
        try:
            if existing is not None:
                self._resume()
            self._load_neuron_ids()
        except BaseException:
            self.close()
            raise

    # -- transactions -------------------------------------------------------------------------
    def _transaction(self, work: Callable[[Any], T], fenced: bool = True,
                     retry: bool | None = None) -> T:
        """Run ``work(tx)`` in one write transaction that starts with the lease fence.

        Managed (driver retries) when ``retry`` is True, else one explicit transaction."""
        if fenced:
            self._check_lease()

        def body(tx: Any) -> T:
            if fenced:
                fence(tx, self.run_id, self.owner, self.lease_ttl, self.name)
            return work(tx)

        try:
            with self.driver.session(database=self.database) as session:
                if self.retry if retry is None else retry:
                    result = session.execute_write(body)
                else:
                    with session.begin_transaction() as tx:
                        result = body(tx)
                        tx.commit()
        except LeaseLostError as exc:
            self._lost = exc
            raise
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None:
            heartbeat.touch()
        return result

    def _value(self, statement: str, params: dict[str, Any], retry: bool | None = None) -> Any:
        """Run one statement in a fenced transaction; its single record's ``n``."""

        def work(tx: Any) -> Any:
            record = tx.run(statement, params).single()
            return None if record is None else record["n"]

        return self._transaction(work, retry=retry)

    def _check_lease(self) -> None:
        heartbeat = getattr(self, "_heartbeat", None)
        if self._lost is None and heartbeat is not None and heartbeat.lost is not None:
            self._lost = heartbeat.lost
        if self._lost is not None:
            raise self._lost

    @staticmethod
    def _expect(what: str, got: int, expected: int) -> None:
        if got != expected:
            raise StoreError(
                f"{what}: the database matched {got} where {expected} were expected; the run "
                "was changed by someone else. Nothing of this transaction was written."
            )

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
            "lease_owner": self.owner,
            "writer": self.writer.backend,
        }
        layers = [
            {**spec.__dict__, "run_id": self.run_id, "gate": spec.gate or "",
             "role": spec.role or "", "tied_to": spec.tied_to or ""}
            for spec in arch.layers
        ]
        groups = [{"name": g, "size": n} for g, n in arch.groups.items()]

        def work(tx: Any) -> None:
            # The run is born leased, in the transaction that creates it.
            tx.run("CREATE (r:Run) SET r = $props, r.lease_expires_at = timestamp() + $ttl_ms",
                   props=props, ttl_ms=int(self.lease_ttl * 1000)).consume()
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

        self._transaction(work, fenced=False)

    def _load_neuron_ids(self) -> None:
        # The plugin addresses nodes and relationships by internal id, the Cypher writer by
        # element id (id() is deprecated in Cypher but is what the Core API takes).
        node_id = "id(n)" if self._plugin else "elementId(n)"
        records, _, _ = self.driver.execute_query(
            "MATCH (n:Neuron) WHERE n.run_id = $id "
            f"RETURN n.layer AS g, collect([n.index, {node_id}]) AS ids",
            id=self.run_id, database_=self.database,
        )
        for record in records:
            size = self.architecture.groups[record["g"]]
            ids = np.full(size, -1, dtype=np.int64) if self._plugin else np.empty(size, dtype=object)
            for index, element_id in record["ids"]:
                ids[index] = element_id
            self._neuron_ids[record["g"]] = ids
        for group, size in self.architecture.groups.items():
            found = self._neuron_ids.get(group)
            missing = found is None or (
                bool((found < 0).any()) if self._plugin else any(x is None for x in found)
            )
            if missing:
                raise StoreError(
                    f"run {self.name!r} lacks neurons of group {group!r} (expected {size}); the "
                    "run is damaged: delete it with `sparsetopo run delete` and write it anew"
                )

    def _resume(self) -> None:
        """Roll back an incomplete snapshot (we hold the lease, so its writer is gone), then
        load the alive edges of the last complete one."""
        records, _, _ = self.driver.execute_query(
            "MATCH (s:Snapshot) WHERE s.run_id = $id RETURN s.seq AS seq, s.step AS step, "
            "s.complete AS complete ORDER BY seq",
            id=self.run_id, database_=self.database,
        )
        for record in records:
            if not record["complete"]:
                _log.info("run %r: rolling back the incomplete snapshot seq %d of a writer "
                          "that stopped", self.name, record["seq"])
                self._rollback(record["seq"])
        complete = [r for r in records if r["complete"]]
        self.last_seq = complete[-1]["seq"] if complete else -1
        self.last_step = complete[-1]["step"] if complete else None
        rel_id = "id(r)" if self._plugin else "elementId(r)"
        records, _, _ = self.driver.execute_query(
            "MATCH (a)-[r:SYNAPSE]->(b) WHERE r.run_id = $id AND r.born >= 0 AND r.died IS NULL "
            "RETURN r.layer AS layer, a.index AS s, b.index AS t, r.sign AS sign, "
            f"{rel_id} AS rid",
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
                rel_ids=np.array([row[3] for row in rows], dtype=self._id_dtype)[order],
            )

    _ROLLBACK = (
        "MATCH ()-[s:SYNAPSE]->() WHERE s.run_id = $id AND s.born = $seq "
        "WITH s LIMIT $batch DELETE s RETURN count(*) AS n",
        "MATCH ()-[s:SYNAPSE]->() WHERE s.run_id = $id AND s.died = $seq "
        "WITH s LIMIT $batch REMOVE s.died RETURN count(*) AS n",
        "MATCH (b:WeightBlock) WHERE b.run_id = $id AND b.seq = $seq "
        "WITH b LIMIT 4 DETACH DELETE b RETURN count(*) AS n",
        "MATCH (m:Motif) WHERE m.run_id = $id AND m.seq = $seq "
        "WITH m LIMIT $batch DETACH DELETE m RETURN count(*) AS n",
        # never a complete snapshot: only the unfinished one is removed
        "MATCH (s:Snapshot {run_id: $id, seq: $seq}) WHERE s.complete = false "
        "DETACH DELETE s RETURN count(*) AS n",
    )

    def _rollback(self, seq: int, retry: bool | None = None) -> None:
        """Remove everything of incomplete snapshot ``seq`` in fenced batches (idempotent)."""
        for statement in self._ROLLBACK:
            while True:
                if self._value(statement, {"id": self.run_id, "seq": seq, "batch": CHUNK},
                               retry=retry) == 0:
                    break

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
        """Write one snapshot atomically (its step must exceed the last stored step).

        Parameters
        ----------
        snapshot
            The layers' edges and weights, the step, epoch and metrics.
        source
            Where the snapshot came from (a file name, "recorder"), stored on the Snapshot.

        Returns
        -------
        WrittenSnapshot
            Its seq, step, edge count and turnover.

        Raises
        ------
        LeaseLostError
            Another writer took the run over; nothing of this snapshot stays visible.
        StoreError
            The step does not increase, or the database did not match what was expected.
        InputError
            Unknown layers, indices outside the shape, duplicate edges or non-finite weights.
        """
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
        self._check_lease()
        created = self._transaction(lambda tx: tx.run(
            "MATCH (r:Run {run_id: $id}) CREATE (r)-[:HAS_SNAPSHOT]->(s:Snapshot) SET s = $props "
            "WITH r, s OPTIONAL MATCH (p:Snapshot {run_id: $id, seq: $prev}) "
            "FOREACH (_ IN CASE WHEN p IS NULL THEN [] ELSE [1] END | CREATE (p)-[:NEXT]->(s)) "
            "RETURN count(s) AS n",
            id=self.run_id, props=props, prev=seq - 1).single()["n"])
        self._expect(f"creating snapshot {seq} of run {self.name!r}", created, 1)
        try:
            new_states = {}
            for spec, keys, w, signs, born_mask, died_mask, old in plans:
                self._write_deaths(spec, old.rel_ids[died_mask], seq)
                new_ids = self._write_births(spec, keys[born_mask], signs[born_mask], seq)
                rel_ids = np.empty(len(keys), dtype=self._id_dtype)
                rel_ids[born_mask] = new_ids
                if (~born_mask).any():
                    kept = old.keys[~died_mask]
                    rel_ids[~born_mask] = old.rel_ids[~died_mask][np.searchsorted(kept, keys[~born_mask])]
                self._write_weights(spec, keys, w, seq)
                new_states[spec.name] = _LayerState(keys=keys, signs=signs, rel_ids=rel_ids)
            done = self._transaction(lambda tx: tx.run(
                "MATCH (r:Run {run_id: $id}) MATCH (s:Snapshot {run_id: $id, seq: $seq}) "
                "WHERE s.complete = false "
                "SET s.complete = true, r.n_snapshots = $seq + 1, r.last_step = s.step "
                "RETURN count(s) AS n",
                id=self.run_id, seq=seq).single()["n"])
            self._expect(f"marking snapshot {seq} of run {self.name!r} complete", done, 1)
        except BaseException:
            self._rollback_quietly(seq)
            raise
        self._state.update(new_states)
        self.last_seq, self.last_step = seq, int(snapshot.step)
        return WrittenSnapshot(self.name, seq, int(snapshot.step), n_edges, births, deaths, flips)

    def _rollback_quietly(self, seq: int) -> None:
        # The server may be gone, or the lease lost; then the next lease holder rolls back.
        # No driver retries here: a failed write must not wait twice for an absent server.
        with contextlib.suppress(Exception):
            self._rollback(seq, retry=False)

    def _write_births(self, spec: LayerSpec, keys: np.ndarray, signs: np.ndarray, seq: int) -> np.ndarray:
        if self._plugin:
            return self._plugin_births(spec, keys, signs, seq)
        ids = np.empty(len(keys), dtype=object)
        src_ids = self._neuron_ids[spec.src_group]
        dst_ids = self._neuron_ids[spec.dst_group]
        for start in range(0, len(keys), CHUNK):
            part = keys[start:start + CHUNK]
            params = {
                "a": src_ids[part // spec.n_out].tolist(),
                "b": dst_ids[part % spec.n_out].tolist(),
                "sign": signs[start:start + CHUNK].tolist(),
                "id": self.run_id, "layer": spec.name, "seq": seq,
            }
            got = self._value(
                "UNWIND range(0, size($a) - 1) AS i "
                "MATCH (a) WHERE elementId(a) = $a[i] MATCH (b) WHERE elementId(b) = $b[i] "
                "CREATE (a)-[r:SYNAPSE {run_id: $id, layer: $layer, born: $seq, sign: $sign[i]}]->(b) "
                "RETURN collect(elementId(r)) AS n", params)
            self._expect(f"layer {spec.name!r}: synapses born at snapshot {seq}", len(got), len(part))
            ids[start:start + len(part)] = got
        return ids

    def _write_deaths(self, spec: LayerSpec, rel_ids: np.ndarray, seq: int) -> None:
        if self._plugin:
            self._plugin_deaths(spec, rel_ids, seq)
            return
        for start in range(0, len(rel_ids), CHUNK):
            part = rel_ids[start:start + CHUNK].tolist()
            n = self._value(
                "UNWIND $ids AS rid MATCH ()-[r:SYNAPSE]->() WHERE elementId(r) = rid "
                "AND r.run_id = $id AND r.died IS NULL SET r.died = $seq RETURN count(r) AS n",
                {"ids": part, "id": self.run_id, "seq": seq})
            self._expect(f"layer {spec.name!r}: synapses ending at snapshot {seq}", n, len(part))

    def _write_weights(self, spec: LayerSpec, keys: np.ndarray, w: np.ndarray, seq: int) -> None:
        if self._plugin:
            self._plugin_weights(spec, keys, w, seq)
            return
        src = (keys // spec.n_out).astype(np.int64)
        dst = (keys % spec.n_out).astype(np.int64)
        for chunk, start in enumerate(range(0, max(len(keys), 1), WEIGHT_BLOCK)):
            end = start + WEIGHT_BLOCK
            params = {
                "id": self.run_id, "seq": seq, "layer": spec.name, "chunk": chunk,
                "src": src[start:end].tolist(), "dst": dst[start:end].tolist(),
                "w": w[start:end].astype(np.float64).tolist(),
            }
            n = self._value(
                "MATCH (s:Snapshot {run_id: $id, seq: $seq}) WHERE s.complete = false "
                "CREATE (s)-[:HAS_WEIGHTS]->(b:WeightBlock {run_id: $id, seq: $seq, layer: $layer, "
                "chunk: $chunk, src: $src, dst: $dst, w: $w}) RETURN count(b) AS n", params)
            self._expect(f"layer {spec.name!r}: weight block {chunk} of snapshot {seq}", n, 1)

    # -- the server-side plugin: packed little-endian arrays, same data, same checks -----------
    def _plugin_births(self, spec: LayerSpec, keys: np.ndarray, signs: np.ndarray,
                       seq: int) -> np.ndarray:
        ids = np.empty(len(keys), dtype=np.int64)
        src_nodes = self._neuron_ids[spec.src_group].astype("<i8").tobytes()
        dst_nodes = self._neuron_ids[spec.dst_group].astype("<i8").tobytes()
        for start in range(0, len(keys), PLUGIN_CHUNK):
            part = keys[start:start + PLUGIN_CHUNK]
            params = {
                "id": self.run_id, "layer": spec.name, "seq": seq,
                "srcNodes": src_nodes, "dstNodes": dst_nodes,
                "src": (part // spec.n_out).astype("<i4").tobytes(),
                "dst": (part % spec.n_out).astype("<i4").tobytes(),
                "sign": signs[start:start + PLUGIN_CHUNK].astype(np.int8).tobytes(),
            }
            got = self._value(
                "CALL sparsetopo.births($id, $layer, $seq, $srcNodes, $dstNodes, $src, $dst, "
                "$sign) YIELD ids RETURN ids AS n", params)
            created = np.frombuffer(got, dtype="<i8")
            self._expect(f"layer {spec.name!r}: synapses born at snapshot {seq}", len(created),
                         len(part))
            ids[start:start + len(part)] = created
        return ids

    def _plugin_deaths(self, spec: LayerSpec, rel_ids: np.ndarray, seq: int) -> None:
        for start in range(0, len(rel_ids), PLUGIN_CHUNK):
            part = rel_ids[start:start + PLUGIN_CHUNK].astype("<i8")
            n = self._value(
                "CALL sparsetopo.deaths($id, $layer, $seq, $rels) YIELD n RETURN n",
                {"id": self.run_id, "layer": spec.name, "seq": seq, "rels": part.tobytes()})
            self._expect(f"layer {spec.name!r}: synapses ending at snapshot {seq}", n, len(part))

    def _plugin_weights(self, spec: LayerSpec, keys: np.ndarray, w: np.ndarray, seq: int) -> None:
        src = (keys // spec.n_out).astype("<i4")
        dst = (keys % spec.n_out).astype("<i4")
        w32 = w.astype("<f4")
        for chunk, start in enumerate(range(0, max(len(keys), 1), WEIGHT_BLOCK)):
            end = start + WEIGHT_BLOCK
            n = self._value(
                "MATCH (s:Snapshot {run_id: $id, seq: $seq}) WHERE s.complete = false "
                "CALL sparsetopo.weights(s, $id, $seq, $layer, $chunk, $src, $dst, $w) YIELD n "
                "RETURN sum(n) AS n",
                {"id": self.run_id, "seq": seq, "layer": spec.name, "chunk": chunk,
                 "src": src[start:end].tobytes(), "dst": dst[start:end].tobytes(),
                 "w": w32[start:end].tobytes()})
            self._expect(f"layer {spec.name!r}: weight block {chunk} of snapshot {seq}", n, 1)

    def finish(self, status: str = "complete") -> None:
        """Mark the run finished (``status``) and release its lease.

        Raises
        ------
        LeaseLostError
            Another writer took the run over meanwhile.
        """
        n = self._transaction(lambda tx: tx.run(
            "MATCH (r:Run {run_id: $id}) SET r.status = $status, r.finished_at = $at "
            "REMOVE r.lease_owner, r.lease_expires_at RETURN count(r) AS n",
            id=self.run_id, status=status, at=_now()).single()["n"])
        self._expect(f"finishing run {self.name!r}", n, 1)
        self._released = True
        self._heartbeat.stop()

    @property
    def background_threads(self) -> list[threading.Thread]:
        """The writer's own threads that use its driver (the lease renewal): close the driver
        only after they ended (decision 0020)."""
        heartbeat = getattr(self, "_heartbeat", None)
        return [heartbeat.thread] if heartbeat is not None else []

    def close(self) -> None:
        """Release the lease (if still held) and stop renewing it; idempotent."""
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None:
            heartbeat.stop()
        if not self._released:
            self._released = True
            with contextlib.suppress(Exception):
                release(self.driver, self.run_id, self.owner, self.database)

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _renewer(
    driver: Driver, database: str | None, run_id: int, owner: str, ttl: float, name: str
) -> Callable[[], None]:
    """The heartbeat's renewal: a fence in a transaction of its own (no reference to the
    writer, so a dropped writer stops renewing)."""

    def renew() -> None:
        with driver.session(database=database) as session:
            session.execute_write(lambda tx: fence(tx, run_id, owner, ttl, name))

    return renew
