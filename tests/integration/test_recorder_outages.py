"""Recorder outages through a fault-injecting TCP proxy (issue 10, defects 2 and 3).

The proxy sits between the Recorder and the test server, so an outage is a cut or stalled
connection rather than a server restart (which the campaign in tests/faults/ also does).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.extras import requires

torch = requires("torch")

from sparsetopo.errors import SparsetopoError, StoreError
from sparsetopo.graphstore.lease import lease_state
from sparsetopo.graphstore.reader import list_snapshots
from sparsetopo.graphstore.runs import find_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.ingest.extract import ModelGraph
from sparsetopo.ingest.recorder import MAX_BLOCK, Recorder
from tests.support.recording import assert_stored, mlp, prune_step, via

pytestmark = pytest.mark.torch

#: What the tests allow snapshot() to block: the documented bound plus copying a tiny model,
#: with a wide margin for a loaded 2-core machine (the defect was 20-70 s).
BLOCK_LIMIT = MAX_BLOCK + 0.4
#: Lease time to live of Recorders that end during an outage (their lease cannot be released).
LEASE_TTL = 2.0


def test_stalled_connection_never_blocks_snapshot_and_flush_honours_timeout(
    managed_server, driver, proxy, run_name, tmp_path: Path
):
    model = mlp(0)
    rec = Recorder(model, run=run_name, connection=via(proxy, managed_server),
                   spool_dir=tmp_path, retry_interval=0.2, close_timeout=20)
    expected = {0: prune_step(model, 0)}
    rec.snapshot(0)
    rec.flush(timeout=30)
    proxy.set_mode("hang")
    for step in range(1, 6):
        expected[step] = prune_step(model, step)
        rec.snapshot(step)
    assert max(rec.blocking_seconds) < BLOCK_LIMIT
    start = time.monotonic()
    with pytest.raises(SparsetopoError, match=r"did not drain within 1\.0 s"):
        rec.flush(timeout=1.0)
    assert time.monotonic() - start < 1.0 + 0.5
    proxy.set_mode("drop")  # the stalled connection is cut: the write fails, the rest spools
    time.sleep(0.5)
    proxy.set_mode("pass")
    rec.flush(timeout=60)
    rec.close()
    assert_stored(driver, run_name, expected)
    assert not list(tmp_path.rglob("*.npz"))


def test_outage_spools_fast_and_replays_in_background(
    managed_server, driver, proxy, run_name, tmp_path: Path, caplog
):
    """Spooled snapshots keep their metrics and arrive exactly; the user is told both ways.
    (A real stop and kill -9 of the server under a Recorder: the fault campaign.)"""
    model = mlp(1)
    rec = Recorder(model, run=run_name, connection=via(proxy, managed_server),
                   spool_dir=tmp_path, retry_interval=0.2)
    expected = {}
    for step in range(3):
        expected[step] = prune_step(model, step)
        rec.snapshot(step, metrics={"step_metric": float(step)})
    rec.flush(timeout=30)
    proxy.set_mode("drop")
    for step in range(3, 9):
        expected[step] = prune_step(model, step)
        rec.snapshot(step, metrics={"step_metric": float(step)})
    rec.flush(timeout=10)  # database down: flush returns once everything is on disk
    assert rec.spool.files()
    proxy.set_mode("pass")
    for step in range(9, 12):  # snapshots taken while the spool replays stay cheap
        expected[step] = prune_step(model, step)
        rec.snapshot(step, metrics={"step_metric": float(step)})
    rec.flush(timeout=60)
    rec.close()
    assert max(rec.blocking_seconds) < BLOCK_LIMIT
    assert_stored(driver, run_name, expected)
    assert rec.written == list(range(12))
    assert [s["step_metric"] for s in list_snapshots(driver, run_name)] == [
        float(i) for i in range(12)]
    told = "\n".join(r.getMessage() for r in caplog.records)
    assert "spooling snapshots" in told and "replayed" in told
    assert not list(tmp_path.rglob("*.npz"))


def _spooled_run(managed_server, driver, proxy, run: str, spool: Path, steps: range, seed: int):
    """A Recorder that wrote `steps[0]` and then spooled the rest during an outage and ended
    (as a crashed or closed-while-down Recorder leaves it)."""
    model = mlp(seed)
    rec = Recorder(model, run=run, connection=via(proxy, managed_server), spool_dir=spool,
                   retry_interval=0.2, close_timeout=5, lease_ttl=LEASE_TTL)
    rec.snapshot(steps[0])
    rec.flush(timeout=30)
    proxy.set_mode("drop")
    for step in steps[1:]:
        prune_step(model, step)
        rec.snapshot(step)
    rec.close()
    proxy.set_mode("pass")
    # it could not release its lease: wait until the server sees it expired
    run_id = find_run(driver, run)["run_id"]
    deadline = time.monotonic() + 10 * LEASE_TTL
    while (state := lease_state(driver, run_id)) is not None and state.live:
        assert time.monotonic() < deadline, "the ended Recorder's lease never expired"
        time.sleep(0.1)
    return rec


def test_replace_never_replays_an_old_spool(managed_server, driver, proxy, run_name, tmp_path):
    old = _spooled_run(managed_server, driver, proxy, run_name, tmp_path, range(100, 105), seed=2)
    assert len(list(old.spool.path.glob("*.npz"))) == 4
    model = mlp(3)
    expected = {}
    with Recorder(model, run=run_name, replace=True, spool_dir=tmp_path) as rec:
        for step in range(5):
            expected[step] = prune_step(model, step)
            rec.snapshot(step)
    assert_stored(driver, run_name, expected)  # exactly the new steps 0-4
    assert not old.spool.path.exists()
    assert not list(tmp_path.rglob("*.npz"))


def test_next_recorder_of_the_same_run_replays_an_ended_spool_first(
    managed_server, driver, proxy, run_name, tmp_path
):
    old = _spooled_run(managed_server, driver, proxy, run_name, tmp_path, range(100, 105), seed=4)
    spooled = {int(p.name.split("step")[1][:-4]): p for p in old.spool.files()}
    assert sorted(spooled) == [101, 102, 103, 104]
    with Recorder(mlp(4), run=run_name, spool_dir=tmp_path) as rec:
        rec.flush(timeout=60)
        assert rec.written == [101, 102, 103, 104]
        with pytest.raises(ValueError, match="not larger"):
            rec.snapshot(104)
        rec.snapshot(105)
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [100, 101, 102, 103, 104, 105]


def test_spooled_step_behind_the_run_is_reported_and_kept(
    managed_server, driver, proxy, run_name, tmp_path
):
    old = _spooled_run(managed_server, driver, proxy, run_name, tmp_path, range(0, 3), seed=5)
    graph = ModelGraph(mlp(5))
    # meanwhile the run moved on past the spooled steps 1 and 2
    writer = RunWriter(driver, run_name, graph.architecture)
    writer.write(graph.snapshot(step=10))
    writer.finish()
    rec = Recorder(mlp(5), run=run_name, spool_dir=tmp_path, retry_interval=0.2)
    with pytest.raises(StoreError, match=r"2 problems: .*step 1 .* step 2 is not after the run's "
                       r"last stored step 10"):
        rec.flush(timeout=60)
    rec.close()
    kept = sorted((old.spool.path / "rejected").glob("*.npz"))
    assert [p.name.split("step")[1] for p in kept] == ["1.npz", "2.npz"]
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [0, 10]
