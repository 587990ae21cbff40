"""The Recorder against a real server: masks, metrics, and spool-and-replay across a restart."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from torch.nn.utils import prune

from sparsetopo.graphstore.connection import open_driver
from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.ingest.recorder import Recorder
from sparsetopo.server.config import ServerSettings
from sparsetopo.server.process import ManagedServer

pytestmark = pytest.mark.torch


def _mlp(seed: int = 0) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5))


def test_recorder_reads_prune_masks(driver, run_name):
    model = _mlp()
    prune.l1_unstructured(model[0], "weight", amount=0.7)
    prune.random_unstructured(model[2], "weight", amount=0.5)
    with Recorder(model, run=run_name, task="unit", strategy="magnitude") as rec:
        rec.snapshot(0, metrics={"loss": 2.5})
        prune.l1_unstructured(model[0], "weight", amount=0.5)  # prunes further
        rec.snapshot(1, metrics={"loss": torch.tensor(1.25)})
    snaps = list_snapshots(driver, run_name)
    assert [s["step"] for s in snaps] == [0, 1]
    assert [s["loss"] for s in snaps] == [2.5, 1.25]
    expected_edges = int((model[0].weight != 0).sum() + (model[2].weight != 0).sum())
    assert snaps[1]["n_edges"] == expected_edges
    back = read_snapshot(driver, run_name, step=1)
    # nn.Linear stores (out, in); the graph is (in, out)
    np.testing.assert_array_equal(back.layers["0.weight"].to_dense(20, 16),
                                  model[0].weight.detach().numpy().T)
    np.testing.assert_array_equal(back.layers["2.weight"].to_dense(16, 5),
                                  model[2].weight.detach().numpy().T)


def test_recorder_refuses_decreasing_steps(run_name):
    with Recorder(_mlp(), run=run_name) as rec:
        rec.snapshot(3)
        with pytest.raises(ValueError, match="not larger"):
            rec.snapshot(2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def second_server(managed_server, tmp_path: Path):
    """Another managed server (own home, own ports) that a test may stop and start."""
    home = tmp_path / "home"
    home.mkdir()
    for folder in ("lib", "plugins"):
        (home / folder).symlink_to(managed_server.home / folder)
    settings = ServerSettings(bolt_port=_free_port(), http_port=_free_port(), heap="512m",
                              pagecache="128m")
    server = ManagedServer(home=home, settings=settings)
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_spool_and_replay_across_restart(second_server, tmp_path: Path, caplog):
    model = _mlp(1)
    spool = tmp_path / "spool"
    rec = Recorder(model, run="spooled", connection=second_server.connection(),
                   spool_dir=spool, retry_interval=0.5)
    weights = []
    for step in range(6):
        with torch.no_grad():
            model[0].weight.mul_((torch.rand_like(model[0].weight) > 0.2).float())
        weights.append(model[0].weight.detach().numpy().T.copy())
        if step == 2:
            rec.flush()
            second_server.stop()
        rec.snapshot(step, metrics={"step_metric": float(step)})
        if step == 4:
            rec.flush(timeout=60)  # database down: flushing spools instead of failing
            assert len(rec.spool.files()) >= 2
    second_server.start()
    # flush() returns at once while the Recorder still counts the database as down; on a
    # loaded machine the reconnection to a fresh server can take longer than close_timeout
    deadline = time.monotonic() + 180
    while not rec._db_ok and time.monotonic() < deadline:
        time.sleep(0.2)
    rec.flush(timeout=120)
    rec.close()
    err = "\n".join(r.getMessage() for r in caplog.records)
    assert "spooling snapshots" in err and "replayed" in err
    assert not list(spool.rglob("*.npz"))
    driver, _ = open_driver(second_server.connection())
    try:
        snaps = list_snapshots(driver, "spooled")
        assert [s["step"] for s in snaps] == list(range(6))
        assert [s["step_metric"] for s in snaps] == [float(i) for i in range(6)]
        for step, dense in enumerate(weights):
            got = read_snapshot(driver, "spooled", step=step).layers["0.weight"].to_dense(20, 16)
            np.testing.assert_array_equal(got, dense)
    finally:
        driver.close()
