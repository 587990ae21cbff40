"""Store.analyze on a Dask cluster (a LocalCluster of 2 workers): the workers read snapshots
from the database themselves (the tasks carry references, not edges), the results equal the
local process pool's and an independent brute-force count, and are written back once."""

from __future__ import annotations

import json
import pickle
import sys
import threading
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

from sparsetopo.api import executors
from sparsetopo.api.store import Store
from sparsetopo.cli.main import app
from sparsetopo.errors import InputError, ServerError
from sparsetopo.graphstore.results import count_results
from sparsetopo.graphstore.runs import delete_run
from tests.support.extras import requires
from tests.support.zhang import EPOCHS as ZHANG_EPOCHS
from tests.support.zhang import brute_ffl_balance, load, write

distributed = requires("distributed")

#: the SET run's first five epochs
EPOCHS = ZHANG_EPOCHS[:5]


@pytest.fixture(scope="module")
def dask_client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def store(managed_server):
    with Store.connect() as s:
        yield s


def _stored(store: Store, run: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    hist = store.history(run).drop(columns=["created_at"], errors="ignore")
    motifs = store.motifs(run).sort_values(["seq", "motif"]).reset_index(drop=True)
    pairs = store.pairs("NNSTD", run).sort_values(["seq_a", "seq_b"]).reset_index(drop=True)
    return hist, motifs, pairs


def test_dask_executor_equals_local_pool_and_brute_force(store, run_name, dask_client):
    other = run_name + "-b"
    write(store.driver, run_name, EPOCHS)
    try:
        write(store.driver, other, (25, 30), step_offset=1)  # no common steps: by position
        ex = executors.DaskExecutor(client=dask_client)
        executors._close_worker_drivers()
        rep = store.analyze(run_name, n_null=8, nnstd="all", executor=ex, compare=[other])
        assert rep.computed == list(range(len(EPOCHS)))
        assert rep.pairs == len(EPOCHS) * (len(EPOCHS) - 1) // 2
        assert rep.compared == {other: 2}
        # the workers opened their own driver and read the snapshots with it
        keys = list(executors._worker_drivers)
        assert {k[:3] for k in keys} == {(store.info.uri, store.info.user, store.info.database)}
        assert 1 <= len(keys) <= 2  # one per worker thread
        # the tasks carried references: far smaller than one snapshot's edges
        one_snapshot = len(pickle.dumps(load(0).to_numpy()))
        assert ex.payload_bytes < one_snapshot
        dask_hist, dask_motifs, dask_pairs = _stored(store, run_name)
        counts = count_results(store.driver, store.runs().set_index("name").loc[run_name,
                                                                                  "run_id"])
        for seq, e in enumerate(EPOCHS):
            bal, tot = brute_ffl_balance(load(e))
            row = dask_hist.loc[e]
            assert (row.ffl_total, row.unbalanced_ffl) == (tot, tot - bal), seq
        cross = store.pairs("OVERLAP", run_name, other)
        a, b = (set(zip(load(e).Source, load(e).Target, strict=True)) for e in (0, 25))
        assert cross.loc[0, "shared"] == len(a & b)

        # the same analysis in the local process pool stores identical values, replacing
        local = store.analyze(run_name, n_null=8, nnstd="all", force=True, workers=2)
        assert local.computed == rep.computed and local.pairs == rep.pairs
        loc_hist, loc_motifs, loc_pairs = _stored(store, run_name)
        pd.testing.assert_frame_equal(dask_hist, loc_hist)
        pd.testing.assert_frame_equal(dask_motifs, loc_motifs)
        pd.testing.assert_frame_equal(dask_pairs, loc_pairs)
        # once more on Dask with force: replaced, never duplicated
        store.analyze(run_name, n_null=8, nnstd="all", force=True, executor=dask_client)
        assert count_results(store.driver, rep_id := store.runs().set_index("name").loc[
            run_name, "run_id"]) == counts, rep_id
        # nothing missing: nothing is sent
        again = store.analyze(run_name, n_null=8, nnstd="all", executor=dask_client)
        assert again.computed == [] and again.pairs == 0
    finally:
        delete_run(store.driver, other)


def test_cli_analyze_on_a_dask_scheduler(managed_server, driver, run_name, dask_client):
    write(driver, run_name, EPOCHS[:3])
    runner = CliRunner()
    address = dask_client.scheduler.address
    r = runner.invoke(app, ["analyze", run_name, "--n-null", "4", "--json", "--executor", "dask",
                            "--scheduler", address])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["computed"] == 3
    hist = Store(driver).history(run_name)
    bal, tot = brute_ffl_balance(load(10))
    assert (hist.loc[10, "ffl_total"], hist.loc[10, "unbalanced_ffl"]) == (tot, tot - bal)
    for args, message in (
        (["--executor", "dask"], "needs --scheduler"),
        (["--scheduler", address], "--scheduler is for --executor dask"),
    ):
        r = runner.invoke(app, ["analyze", run_name, "--json", *args])
        assert r.exit_code == 1 and message in r.output and "Traceback" not in r.output, r.output
    # an unknown executor is a usage error, refused by the option's choices before any work
    r = runner.invoke(app, ["analyze", run_name, "--json", "--executor", "spark"])
    assert r.exit_code == 2 and "spark" in r.output and "Traceback" not in r.output, r.output


def test_dask_executor_errors(driver, run_name, dask_client):
    write(driver, run_name, EPOCHS[:2])
    with pytest.raises(ServerError, match="cannot reach the Dask scheduler"):
        executors.DaskExecutor(scheduler="tcp://127.0.0.1:9", timeout=1)
    with pytest.raises(InputError, match=r"sparsetopo\.connect"):
        Store(driver).analyze(run_name, n_null=2, executor=dask_client)


def test_closing_worker_drivers_never_closes_a_driver_another_thread_is_using(store, run_name):
    # Driver.close() closes in-use connections from the closing thread; racing the owner's
    # socket call it raised "BufferError: Existing exports of data" (decision 0020). The old
    # _close_worker_drivers closed every thread's driver: here that ends the worker's
    # half-read result, every time, not only when the race is lost.
    write(store.driver, run_name, EPOCHS[:1])
    executors._close_worker_drivers()
    inside, release = threading.Event(), threading.Event()
    out: dict[str, object] = {}

    def worker() -> None:
        try:
            drv = executors._worker_driver(store.info)
            with drv.session(database=store.info.database, fetch_size=1) as s:
                result = s.run("UNWIND range(1, 5) AS i RETURN i")
                first = next(iter(result))["i"]  # the connection is now in use by this thread
                inside.set()
                assert release.wait(30)
                out["values"] = [first, *(r["i"] for r in result)]
            out["snapshot"] = executors.read_snapshot(drv, run_name, seq=0,
                                                      database=store.info.database)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            out["error"] = exc
            inside.set()

    thread = threading.Thread(target=worker, name="fake-dask-worker")
    thread.start()
    assert inside.wait(30)
    executors._close_worker_drivers()  # from another thread: must leave the worker's driver
    release.set()
    thread.join(60)
    assert not thread.is_alive()
    assert "error" not in out, out.get("error")
    assert out["values"] == [1, 2, 3, 4, 5]
    expected = load(EPOCHS[0])
    got = out["snapshot"].layers["W_rec"]  # type: ignore[attr-defined]
    assert sorted(zip(got.src.tolist(), got.dst.tolist(), strict=True)) == sorted(
        zip(expected.Source.tolist(), expected.Target.tolist(), strict=True))
    # once its thread has ended, its driver is closed by whoever closes the worker drivers
    assert any(k[3] == thread.ident for k in executors._worker_drivers)
    executors._close_worker_drivers()
    assert not any(k[3] == thread.ident for k in executors._worker_drivers)


def test_worker_read_survives_a_profiler_holding_a_sampled_frame(store, run_name):
    # Dask's worker profiler samples sys._current_frames(); a frame it still holds when the
    # driver's BoltSocket.recv_into returns keeps that call's argument, a slice of the
    # connection's read buffer, alive, and the driver's next resize of the buffer raises
    # "BufferError: Existing exports of data" (decision 0020). Here a sampler holds the frame
    # for good: the plain read fails, the worker's read is repeated on a new driver.
    write(store.driver, run_name, EPOCHS[:1])
    ref = executors.SnapshotRef(run_name, 0)
    pinned, stop = threading.Event(), threading.Event()
    held: list[object] = []
    out: dict[str, object] = {}

    def sampler(ident: int) -> None:
        while not stop.is_set() and not pinned.is_set():
            frame = sys._current_frames().get(ident)
            names, f = [], frame
            while f is not None and len(names) < 3:
                names.append(f.f_code.co_name)
                f = f.f_back
            if names == ["_wait_for_io", "_wait_for_read", "recv_into"]:
                held.append(frame)  # waiting in the driver's recv_into: hold it
                pinned.set()
            del frame, f
            time.sleep(0.0005)

    def worker() -> None:
        try:
            drv = executors._worker_driver(store.info)
            for _ in range(20):  # a query slow enough for the sampler to see the wait
                drv.execute_query("UNWIND range(1, 3000000) AS i WITH i WHERE i % 7 = 0 "
                                  "RETURN count(*) AS n", database_=store.info.database)
                if pinned.is_set():
                    break
            out["pinned"] = pinned.is_set()
            try:
                executors.read_snapshot(drv, run_name, seq=0, database=store.info.database)
                out["plain"] = "read"
            except BufferError as exc:
                out["plain"] = exc
            out["edges"] = executors._read_on_worker(store.info, ref)
            out["replaced"] = executors._worker_driver(store.info) is not drv
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            out["error"] = exc

    thread = threading.Thread(target=worker, name="fake-dask-worker")
    thread.start()
    watcher = threading.Thread(target=sampler, args=(thread.ident,), daemon=True)
    watcher.start()
    thread.join(120)
    stop.set()
    watcher.join(5)
    held.clear()
    assert not thread.is_alive()
    assert "error" not in out, out.get("error")
    assert out["pinned"], "the sampler never saw the worker waiting in the driver's read"
    assert isinstance(out["plain"], BufferError), out["plain"]  # the pin is real
    assert out["replaced"]
    expected = load(EPOCHS[0])
    src, dst, _ = out["edges"]["W_rec"]  # type: ignore[index]
    assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == sorted(
        zip(expected.Source.tolist(), expected.Target.tolist(), strict=True))
    executors._close_worker_drivers()
