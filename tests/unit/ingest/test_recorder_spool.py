"""The Recorder without a database: it spools in order and checks metrics in the caller."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from sparsetopo.errors import InputError
from sparsetopo.ingest.recorder import Recorder
from sparsetopo.ingest.spool import SpoolDir
from sparsetopo.server.config import ConnectionInfo

NOWHERE = ConnectionInfo("bolt://127.0.0.1:9", "neo4j", "x", None, managed=False)


def test_spools_in_order_when_database_is_down(tmp_path, caplog):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    rec = Recorder(model, run="offline", connection=NOWHERE, spool_dir=tmp_path,
                   retry_interval=0.05)
    expected = []
    for step in (0, 3, 7):
        with torch.no_grad():
            model[0].weight[step % 4, :] = 0.0
        expected.append(model[0].weight.detach().numpy().T.copy())
        rec.snapshot(step, metrics={"loss": float(step)})
    rec.flush(timeout=30)
    files = rec.spool.files()
    assert files and all(f.parent.parent == tmp_path for f in files)  # <spool_dir>/<writer>/
    assert [f.name.split("-step")[1] for f in files] == ["0.npz", "3.npz", "7.npz"]
    for path, dense in zip(files, expected, strict=True):
        snap = SpoolDir.load(path)
        np.testing.assert_array_equal(snap.layers["0.weight"].to_dense(5, 4), dense)
    assert all(f.stat().st_mode & 0o077 == 0 for f in [*files, files[0].parent])  # owner-only
    assert SpoolDir.load(files[1]).metrics == {"loss": 3.0}
    rec.close()
    # the Recorder reports outages as log warnings (Python prints those on stderr by default)
    err = "\n".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "spooling snapshots" in err and "still spooled" in err
    assert len(rec.blocking_seconds) == 3


def test_bad_metric_name_fails_in_the_training_thread(tmp_path):
    rec = Recorder(torch.nn.Linear(3, 2), run="offline", connection=NOWHERE, spool_dir=tmp_path)
    with pytest.raises(InputError, match="reserved"):
        rec.snapshot(0, metrics={"sparsity": 0.5})
    with pytest.raises(InputError, match="numbers"):
        rec.snapshot(1, metrics={"loss": [1, 2]})
    rec.close()
    assert not list(tmp_path.rglob("*.npz"))


def test_default_close_timeout_scales_with_what_is_pending(tmp_path):
    from sparsetopo.ingest.recorder import CLOSE_FLOOR, CLOSE_RATE

    torch.manual_seed(0)
    model = torch.nn.Linear(200, 100)  # dense: 20,000 edges per snapshot
    rec = Recorder(model, run="offline", connection=NOWHERE, spool_dir=tmp_path,
                   retry_interval=0.05)
    assert rec.close_timeout is None
    assert rec.effective_close_timeout() == CLOSE_FLOOR  # nothing pending yet
    for step in range(3):
        rec.snapshot(step)
    rec.flush(timeout=30)  # the database is down: all three are spooled
    assert len(rec.spool.files()) == 3
    pending = rec.pending_edges()
    # 12 bytes per edge in the spool files, plus a little npz framing and metadata
    assert 3 * 20_000 <= pending <= 3 * 20_000 * 1.01
    assert rec.effective_close_timeout() == pytest.approx(CLOSE_FLOOR + pending / CLOSE_RATE)
    rec.close_timeout = 0.5  # an explicit bound wins
    assert rec.effective_close_timeout() == 0.5
    rec.close()
