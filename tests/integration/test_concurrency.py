"""Writers from many processes: 4 concurrent ingests into different runs finish without errors
and every run reads back exactly what its writer wrote; concurrent schema creation is safe."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid

import numpy as np

from sparsetopo.graphstore import schema
from sparsetopo.graphstore.connection import open_driver
from sparsetopo.graphstore.reader import list_snapshots, read_lifetimes, read_snapshot
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.graphstore.schema import ensure_schema
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec

N, M, K = 200, 3_000, 4
ARCH = Architecture({"hidden": N}, (LayerSpec("W_rec", "hidden", "hidden", N, N, "recurrent"),))


def snapshots(seed: int):
    """K snapshots of M edges; each replaces a fifth of the edges and nudges every weight."""
    rng = np.random.default_rng(seed)
    keys = rng.choice(N * N, size=M, replace=False)
    w = rng.normal(size=M).astype(np.float32)
    for step in range(K):
        order = np.argsort(keys)
        yield GraphSnapshot({"W_rec": LayerEdges(keys[order] // N, keys[order] % N, w[order])},
                            step=10 * step)
        drop = rng.choice(M, size=M // 5, replace=False)
        fresh = np.setdiff1d(rng.choice(N * N, size=3 * len(drop), replace=False), keys)
        keys[drop] = fresh[: len(drop)]
        w[drop] = -w[drop]  # some survivors flip sign
        w += np.float32(0.01)


def _writer(name: str, seed: int, start_at: float, out) -> None:
    try:
        driver, _ = open_driver()
        try:
            time.sleep(max(0.0, start_at - time.time()))
            writer = RunWriter(driver, name, ARCH)
            for snap in snapshots(seed):
                writer.write(snap)
            writer.finish()
        finally:
            driver.close()
        out.put((name, None))
    except BaseException as exc:  # reported to the test
        out.put((name, f"{type(exc).__name__}: {exc}"))


def test_four_concurrent_writers_into_different_runs_are_exact(managed_server, driver):
    names = [f"test-conc-{uuid.uuid4().hex[:8]}-{i}" for i in range(4)]
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 2.0
    procs = [ctx.Process(target=_writer, args=(name, 7 + i, start_at, out))
             for i, name in enumerate(names)]
    try:
        for p in procs:
            p.start()
        reports = dict(out.get(timeout=300) for _ in procs)
        for p in procs:
            p.join(timeout=60)
        assert reports == {name: None for name in names}
        for i, name in enumerate(names):
            expected = list(snapshots(7 + i))
            assert [s["step"] for s in list_snapshots(driver, name)] == [0, 10, 20, 30]
            for seq, want in enumerate(expected):
                got = read_snapshot(driver, name, seq=seq).layers["W_rec"]
                w = want.layers["W_rec"]
                order = np.lexsort((got.dst, got.src))
                assert np.array_equal(got.src[order], w.src)
                assert np.array_equal(got.dst[order], w.dst)
                assert np.array_equal(got.w[order], w.w)
            # the interval model (SYNAPSE born/died/sign) gives the same signed masks
            _, lifetimes, n_snap = read_lifetimes(driver, name)
            assert n_snap == K
            for seq, want in enumerate(expected):
                w = want.layers["W_rec"]
                mask = np.zeros((N, N), dtype=np.int8)
                mask[w.src, w.dst] = np.sign(w.w)
                assert np.array_equal(lifetimes["W_rec"].mask(seq, N, N), mask)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        for name in names:
            delete_run(driver, name)


def test_concurrent_schema_creation(managed_server, driver):
    """Four drivers create the schema at once, one index missing: no errors, index back.
    Without the fix about half of the rounds failed with EquivalentSchemaRuleAlreadyExists."""
    for _ in range(3):
        _schema_round(driver)


def _schema_round(driver) -> None:
    driver.execute_query("DROP INDEX motif_key IF EXISTS")
    drivers = [open_driver()[0] for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(drivers))

    def create(drv) -> None:
        try:
            barrier.wait(timeout=30)
            ensure_schema(drv)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(d,)) for d in drivers]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        records, _, _ = driver.execute_query(
            "SHOW INDEXES YIELD name, state WHERE name = 'motif_key' RETURN state")
        assert [r["state"] for r in records] == ["ONLINE"]
    finally:
        for d in drivers:
            d.close()
        schema._ensured.pop(driver, None)
        ensure_schema(driver)  # whatever happened, the index is back for the other tests


def _crossed_locks(drv, first: str, second: str, barrier, attempts: list[str]) -> None:
    """Lock node `first`, wait for the rival to lock its node, then lock `second`: a deadlock
    on the first attempt, which the server breaks by failing one transaction (transient)."""

    def work(tx) -> None:
        attempts.append(first)
        tx.run("MATCH (n:LockProbe {k: $k}) SET n.v = coalesce(n.v, 0) + 1", k=first).consume()
        if attempts.count(first) == 1:
            barrier.wait(timeout=30)
        tx.run("MATCH (n:LockProbe {k: $k}) SET n.v = coalesce(n.v, 0) + 1", k=second).consume()

    from sparsetopo.graphstore.connection import session

    with session(drv, write=True) as s:
        s.execute_write(work)


def _deadlock_round(max_retry: float) -> tuple[list[str], list[BaseException]]:
    drivers = [open_driver(max_retry=max_retry)[0] for _ in range(2)]
    barrier = threading.Barrier(2)
    attempts: list[str] = []
    errors: list[BaseException] = []

    def run(drv, a: str, b: str) -> None:
        try:
            _crossed_locks(drv, a, b, barrier, attempts)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(drivers[0], "a", "b")),
               threading.Thread(target=run, args=(drivers[1], "b", "a"))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for d in drivers:
            d.close()
    return attempts, errors


def test_deadlock_is_retried_within_the_bound(managed_server, driver):
    """A real deadlock (two transactions locking two nodes in opposite order): with the
    configured retry time the loser is retried and both commit; with max_retry=0 the transient
    error reaches the caller (the Recorder then spools)."""
    from neo4j.exceptions import TransientError

    driver.execute_query("MATCH (n:LockProbe) DELETE n")
    driver.execute_query("UNWIND ['a', 'b'] AS k CREATE (:LockProbe {k: k, v: 0})")
    try:
        attempts, errors = _deadlock_round(max_retry=30)
        assert errors == []
        assert len(attempts) == 3  # one of the two ran twice
        records, _, _ = driver.execute_query("MATCH (n:LockProbe) RETURN sum(n.v) AS v")
        assert records[0]["v"] == 4  # both transactions committed, each adding 2
        attempts, errors = _deadlock_round(max_retry=0)
        assert len(errors) == 1 and isinstance(errors[0], TransientError), errors
        assert "Deadlock" in errors[0].code
    finally:
        driver.execute_query("MATCH (n:LockProbe) DELETE n")


def test_two_writer_processes_into_the_same_new_run(managed_server, driver):
    """Two processes start writing the same, not yet existing, run at the same moment: one
    writes every snapshot, the other is refused with a clear error before writing anything,
    and the run holds exactly the winner's snapshots (never interleaved)."""
    name = f"test-conc-same-{uuid.uuid4().hex[:8]}"
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 2.0
    procs = [ctx.Process(target=_writer, args=(name, seed, start_at, out)) for seed in (11, 12)]
    try:
        for p in procs:
            p.start()
        reports = [out.get(timeout=300) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        errors = [e for _, e in reports if e is not None]
        assert len(errors) == 1, reports
        assert errors[0].startswith(("LeaseHeldError", "StoreError")), errors[0]
        assert name in errors[0] and "\n" not in errors[0]
        # which seed won: the stored first snapshot says
        first = read_snapshot(driver, name, seq=0).layers["W_rec"]
        winner = next(seed for seed in (11, 12)
                      if np.array_equal(np.sort(first.w), np.sort(next(snapshots(seed))
                                                                  .layers["W_rec"].w)))
        assert [s["step"] for s in list_snapshots(driver, name)] == [0, 10, 20, 30]
        for seq, want in enumerate(snapshots(winner)):
            got = read_snapshot(driver, name, seq=seq).layers["W_rec"]
            w = want.layers["W_rec"]
            order = np.lexsort((got.dst, got.src))
            assert np.array_equal(got.src[order], w.src) and np.array_equal(got.w[order], w.w)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        delete_run(driver, name)
