"""One writer per run (decision 0003): leases, fences, and what a crashed or stale writer leaves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import sparsetopo.graphstore.writer as writer_module
from sparsetopo.graphstore.lease import LeaseHeldError, LeaseLostError, lease_state
from sparsetopo.graphstore.reader import list_snapshots
from sparsetopo.graphstore.runs import find_run, list_runs
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec
from tests.support.storecheck import assert_store_matches

#: 200 x 200 at density 0.4: ~16k edges per snapshot, ~36 transactions of CHUNK_SMALL each, so
#: a kill or a rival lands in the middle of a snapshot on any machine
N = 200
CHUNK_SMALL = 450
ARCH = Architecture({"h": N}, (LayerSpec("W", "h", "h", N, N, "recurrent"),))


def denses(seed: int, count: int, density: float = 0.4) -> list[dict[str, np.ndarray]]:
    """float32 matrices that rewire and flip signs between snapshots (regrowth included)."""
    rng = np.random.default_rng(seed)
    w = (rng.random((N, N)) < density) * rng.normal(size=(N, N))
    out = []
    for _ in range(count):
        out.append({"W": w.astype(np.float32)})
        w = w.copy()
        w[rng.random((N, N)) < 0.2] = 0
        grow = (rng.random((N, N)) < 0.1) & (w == 0)
        w[grow] = rng.normal(size=int(grow.sum()))
        flip = rng.random((N, N)) < 0.05
        w[flip] = -w[flip]
    return out


def snap(dense: dict[str, np.ndarray], step: int) -> GraphSnapshot:
    return GraphSnapshot({k: LayerEdges.from_dense(v) for k, v in dense.items()}, step=step)


def wait_for(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def incomplete_snapshot_exists(driver, run_id: int, seq: int) -> bool:
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot {run_id: $id, seq: $seq}) WHERE s.complete = false "
        "MATCH ()-[x:SYNAPSE]->() WHERE x.run_id = $id AND x.born = $seq "
        "RETURN count(x) > 0 AS started", id=run_id, seq=seq)
    return bool(records and records[0]["started"])


def test_second_writer_is_refused_and_first_finishes_exactly(driver, run_name, monkeypatch):
    monkeypatch.setattr(writer_module, "CHUNK", CHUNK_SMALL)  # many transactions per snapshot
    data = denses(1, 3)
    a = RunWriter(driver, run_name, ARCH)
    a.write(snap(data[0], 0))
    failure: list[BaseException] = []
    # A pauses in the middle of snapshot 1 (its births written, its weights not) until B has
    # tried: the overlap does not depend on how fast the server writes
    tried = threading.Event()
    write_weights = a._write_weights

    def paused_in_snapshot_1(spec, keys, w, seq):
        if seq == 1:
            tried.wait(120)
        return write_weights(spec, keys, w, seq)

    a._write_weights = paused_in_snapshot_1  # type: ignore[method-assign]

    def rest() -> None:
        try:
            for i in range(1, 3):
                a.write(snap(data[i], i))
            a.finish()
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)

    thread = threading.Thread(target=rest)
    thread.start()
    try:
        wait_for(lambda: incomplete_snapshot_exists(driver, a.run_id, 1) or not thread.is_alive(),
                 what="writer A in the middle of snapshot 1")
        assert thread.is_alive(), "writer A finished before B could try"
        # B, plain and with replace, is refused while A writes; it neither rolls back nor deletes
        for replace in (False, True):
            with pytest.raises(LeaseHeldError) as info:
                RunWriter(driver, run_name, ARCH, replace=replace)
            message = str(info.value)
            assert f"run {run_name!r} is being written by {a.owner}" in message
            assert "lease expires in" in message
    finally:
        tried.set()
        thread.join()
    assert not failure, failure
    assert_store_matches(driver, a.run_id, data, writer_module.WEIGHT_BLOCK)
    assert find_run(driver, run_name)["status"] == "complete"
    state = lease_state(driver, a.run_id)
    assert state is not None and state.holder is None and not state.live
    # released: another writer may append now
    b = RunWriter(driver, run_name, ARCH)
    assert b.last_seq == 2
    b.close()


def test_concurrent_acquire_has_exactly_one_winner(driver, run_name):
    first = RunWriter(driver, run_name, ARCH)
    first.write(snap(denses(2, 1)[0], 0))
    first.close()
    winners: list[RunWriter] = []
    refused: list[BaseException] = []
    barrier = threading.Barrier(6)

    def contend() -> None:
        barrier.wait()
        try:
            winners.append(RunWriter(driver, run_name, ARCH))
        except LeaseHeldError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(winners), len(refused)) == (1, 5)
    state = lease_state(driver, winners[0].run_id)
    assert state is not None and state.holder == winners[0].owner and state.live
    winners[0].close()


def test_idle_writer_keeps_its_lease(driver, run_name):
    # TTL 3 s, heartbeat every 1 s: a 2 s stall of a loaded machine is still tolerated
    ttl = 3.0
    a = RunWriter(driver, run_name, ARCH, lease_ttl=ttl)
    run_id = find_run(driver, run_name)["run_id"]
    # idle beyond the TTL: only the heartbeat keeps the lease alive, at every look
    deadline = time.monotonic() + ttl + 1.0
    while time.monotonic() < deadline:
        state = lease_state(driver, run_id)
        assert state is not None and state.live, "the idle writer lost its lease"
        time.sleep(0.25)
    with pytest.raises(LeaseHeldError):
        RunWriter(driver, run_name, ARCH)
    a.write(snap(denses(3, 1)[0], 0))
    a.close()
    assert [s["seq"] for s in list_snapshots(driver, run_name)] == [0]


_KILLED = textwrap.dedent("""
    import sys, numpy as np
    import sparsetopo.graphstore.writer as w
    from sparsetopo.graphstore.connection import open_driver
    from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec
    from tests.integration.test_writer_lease import ARCH, CHUNK_SMALL, denses, snap
    w.CHUNK = w.PLUGIN_CHUNK = CHUNK_SMALL  # many small transactions: the kill lands in the middle
    driver, _ = open_driver()
    # "other-host": an owner id naming another host, whose lease only expires (issue 24: a
    # dead writer of this host is taken over at once)
    owner = None
    if sys.argv[4] == "other-host":
        import os, secrets
        owner = f"{secrets.token_hex(8)}@another-host:{os.getpid()}"
    writer = w.RunWriter(driver, sys.argv[1], ARCH, lease_ttl=float(sys.argv[2]),
                         writer=sys.argv[3], owner=owner)
    assert writer.writer.backend == sys.argv[3]
    print(writer.owner, flush=True)
    for i, dense in enumerate(denses(4, 2)):
        writer.write(snap(dense, i))
        print("wrote", i, flush=True)
""")


def _start_killed_writer(run_name: str, ttl: float, backend: str, where: str):
    return subprocess.Popen([sys.executable, "-c", _KILLED, run_name, str(ttl), backend, where],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ),
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_killed_writer_of_this_host_is_taken_over_at_once(driver, run_name):
    proc = _start_killed_writer(run_name, 600.0, "cypher", "this-host")
    assert proc.stdout is not None
    owner = proc.stdout.readline().strip()
    assert proc.stdout.readline().strip() == "wrote 0"
    run_id = find_run(driver, run_name)["run_id"]
    try:
        wait_for(lambda: incomplete_snapshot_exists(driver, run_id, 1) or proc.poll() is not None,
                 what="the writer in the middle of snapshot 1")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert lease_state(driver, run_id).holder == owner  # 600 s to live...
    start = time.monotonic()
    b = RunWriter(driver, run_name, ARCH)  # ...but its process is gone: taken over at once
    assert time.monotonic() - start < 10
    assert b.last_seq == 0 and not incomplete_snapshot_exists(driver, run_id, 1)
    b.write(snap(denses(5, 1)[0], 1))
    b.finish()
    assert [s["seq"] for s in list_snapshots(driver, run_name)] == [0, 1]


@pytest.mark.parametrize("backend", ["cypher", "plugin"])
def test_killed_writer_blocks_until_its_lease_expires(driver, run_name, backend):
    """A writer of another host keeps its lease time to live."""
    ttl = 4.0
    proc = _start_killed_writer(run_name, ttl, backend, "other-host")
    assert proc.stdout is not None
    owner = proc.stdout.readline().strip()
    assert proc.stdout.readline().strip() == "wrote 0"
    run_id = find_run(driver, run_name)["run_id"]
    try:
        wait_for(lambda: incomplete_snapshot_exists(driver, run_id, 1) or proc.poll() is not None,
                 what="the writer in the middle of snapshot 1")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert incomplete_snapshot_exists(driver, run_id, 1), "the writer finished before the kill"
    killed_at = time.monotonic()
    # the dead writer's lease still lives: refused, and nothing is rolled back
    with pytest.raises(LeaseHeldError, match=f"being written by {owner}"):
        RunWriter(driver, run_name, ARCH)
    assert incomplete_snapshot_exists(driver, run_id, 1)
    assert [s["seq"] for s in list_snapshots(driver, run_name)] == [0]
    # listed as recording without a live lease once it expires: interrupted
    wait_for(lambda: not lease_state(driver, run_id).live, timeout=3 * ttl,
             what="the lease to expire")
    assert time.monotonic() - killed_at < 3 * ttl
    listed = next(r for r in list_runs(driver) if r["name"] == run_name)
    assert (listed["status"], listed["lease_live"], listed["lease_owner"]) == (
        "recording", False, owner)
    # then a new writer takes over, rolls the half snapshot back and continues exactly
    data = denses(4, 2)
    b = RunWriter(driver, run_name, ARCH, writer=backend)
    assert b.last_seq == 0
    assert not incomplete_snapshot_exists(driver, run_id, 1)
    more = denses(5, 2)
    b.write(snap(more[0], 1))
    b.write(snap(more[1], 2))
    b.finish()
    assert_store_matches(driver, run_id, [data[0], more[0], more[1]], writer_module.WEIGHT_BLOCK)


def test_stale_writer_cannot_commit(driver, run_name):
    data = denses(6, 2)
    a = RunWriter(driver, run_name, ARCH)
    a.write(snap(data[0], 0))
    rival: list[RunWriter] = []
    original = a._write_weights

    def expire_and_take_over(*args, **kwargs):
        # A's births and deaths of snapshot 1 are written; its lease now expires (as if it
        # had been cut off longer than the TTL) and B takes the run over.
        driver.execute_query("MATCH (r:Run {run_id: $id}) SET r.lease_expires_at = timestamp() - 1",
                             id=a.run_id)
        b = RunWriter(driver, run_name, ARCH)
        b.write(snap(other[1], 7))
        rival.append(b)
        return original(*args, **kwargs)

    other = denses(7, 2)
    a._write_weights = expire_and_take_over  # type: ignore[method-assign]
    with pytest.raises(LeaseLostError, match="lost its lease"):
        a.write(snap(data[1], 1))
    b = rival[0]
    # nothing of A's snapshot 1 is visible: the store is exactly snapshot 0 plus B's snapshot
    assert_store_matches(driver, a.run_id, [data[0], other[1]], writer_module.WEIGHT_BLOCK)
    # A stays fenced out (write, finish), and its close does not release B's lease
    with pytest.raises(LeaseLostError):
        a.write(snap(data[1], 8))
    with pytest.raises(LeaseLostError):
        a.finish()
    a.close()
    state = lease_state(driver, a.run_id)
    assert state is not None and state.holder == b.owner and state.live
    b.finish()
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [0, 7]


def test_expired_lease_nobody_took_is_still_the_owners(driver, run_name):
    """Expiry only lets another writer in; until one comes, the owner's fence renews it."""
    data = denses(8, 2)
    a = RunWriter(driver, run_name, ARCH)
    a.write(snap(data[0], 0))
    driver.execute_query("MATCH (r:Run {run_id: $id}) SET r.lease_expires_at = timestamp() - 1",
                         id=a.run_id)
    a.write(snap(data[1], 1))
    assert lease_state(driver, a.run_id).live
    a.finish()
    assert_store_matches(driver, a.run_id, data, writer_module.WEIGHT_BLOCK)


def test_deleting_a_run_fences_its_writer_out(driver, run_name):
    from sparsetopo.graphstore.runs import delete_run

    a = RunWriter(driver, run_name, ARCH)
    a.write(snap(denses(9, 1)[0], 0))
    assert delete_run(driver, run_name)
    with pytest.raises(LeaseLostError, match="deleted"):
        a.write(snap(denses(9, 2)[1], 1))
    a.close()
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE n.run_id = $id RETURN count(n) AS n", id=a.run_id)
    assert records[0]["n"] == 0


def test_fail_fast_mode_writes_the_same(driver, run_name):
    data = denses(10, 3)
    a = RunWriter(driver, run_name, ARCH, retry=False)
    for i, dense in enumerate(data):
        a.write(snap(dense, i))
    a.finish()
    assert_store_matches(driver, a.run_id, data, writer_module.WEIGHT_BLOCK)
