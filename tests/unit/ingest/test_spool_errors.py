"""Issue 24: every spool write error ends in SpoolFullError (never a dead staging thread or a
hung snapshot()), and close() names every acknowledged step it could neither write nor spool."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import torch

from sparsetopo.errors import InputError
from sparsetopo.ingest.recorder import Recorder, SpoolFullError
from sparsetopo.ingest.spool import SpoolDir
from sparsetopo.server.config import ConnectionInfo

NOWHERE = ConnectionInfo("bolt://127.0.0.1:9", "neo4j", "x", None, managed=False)
ROOT = Path(__file__).resolve().parents[3]
ERRNOS = [errno.EFBIG, errno.EIO, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS,
          errno.EPERM, errno.EMFILE, errno.ENFILE, errno.ENAMETOOLONG, errno.ENOENT,
          errno.ESTALE]


def _in_thread(fn, timeout: float):
    """Run fn() with a bound: (finished, result or exception)."""
    box: list = [None, None]

    def run():
        try:
            box[0] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back
            box[1] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), box[1] if box[1] is not None else box[0]


def _record_until_refused(rec: Recorder, steps: int) -> tuple[list[int], list[int]]:
    acknowledged, refused = [], []
    for step in range(steps):
        done, out = _in_thread(lambda s=step: rec.snapshot(s), timeout=10)
        assert done, f"snapshot({step}) hung"
        if isinstance(out, SpoolFullError):
            refused.append(step)
        elif isinstance(out, BaseException):
            raise out
        else:
            acknowledged.append(step)
    return acknowledged, refused


def _named(exc: BaseException) -> list[int]:
    found = re.search(r"step\(s\) \[([0-9, ]*)\]", str(exc))
    assert found, str(exc)
    return [int(x) for x in found.group(1).split(",") if x.strip()]


@pytest.mark.parametrize("code", ERRNOS, ids=[errno.errorcode[c] for c in ERRNOS])
def test_every_spool_error_ends_in_spool_full_error(code, tmp_path, monkeypatch):
    def fail(self, index, snap):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(SpoolDir, "write", fail)
    rec = Recorder(torch.nn.Linear(6, 4), run=f"errno-{code}", connection=NOWHERE,
                   spool_dir=tmp_path, retry_interval=0.05, max_block=0.05, queue_size=2,
                   close_timeout=0.5)  # the stuck staging thread is waited for this long
    acknowledged, refused = _record_until_refused(rec, 8)
    assert refused, "the spool failure never reached snapshot()"
    assert rec._stager.is_alive()  # never a dead staging thread
    assert max(rec.blocking_seconds) < 5
    done, out = _in_thread(rec.close, timeout=15)
    assert done, "close() hung"
    # item 4: every acknowledged step is named (nothing was written or spooled)
    assert isinstance(out, SpoolFullError)
    assert _named(out) == acknowledged
    assert "\n" not in str(out) and os.strerror(code) in str(out)


def test_close_names_step_zero(tmp_path, monkeypatch):
    """The issue's case: spool unwritable, database down, steps 0-4 acknowledged: all five are
    named (step 0, held by the staging thread, used to vanish)."""
    monkeypatch.setattr(SpoolDir, "write",
                        lambda self, i, s: (_ for _ in ()).throw(PermissionError(13, "denied")))
    rec = Recorder(torch.nn.Linear(5, 3), run="step-zero", connection=NOWHERE,
                   spool_dir=tmp_path, retry_interval=0.05, queue_size=4, close_timeout=1)
    for step in range(5):
        rec.snapshot(step)
    with pytest.raises(SpoolFullError) as err:
        rec.close()
    assert _named(err.value) == [0, 1, 2, 3, 4]


_FSIZE_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    sys.path.insert(0, {root!r})
    import torch
    from sparsetopo.ingest.recorder import Recorder, SpoolFullError
    from sparsetopo.server.config import ConnectionInfo
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    info = ConnectionInfo("bolt://127.0.0.1:9", "neo4j", "x", None, managed=False)
    torch.manual_seed(0)
    rec = Recorder(torch.nn.Linear(200, 200), run="fsize", connection=info,
                   spool_dir={spool!r}, retry_interval=0.05, close_timeout=2)
    ack, refused = [], []
    for step in range(8):
        try:
            rec.snapshot(step)
            ack.append(step)
        except SpoolFullError:
            refused.append(step)
    named = None
    try:
        rec.close()
    except SpoolFullError as exc:
        named = str(exc)
    print(json.dumps({{"ack": ack, "refused": refused, "named": named}}), flush=True)
""")


def test_real_file_size_limit_in_a_subprocess(tmp_path):
    """RLIMIT_FSIZE of 64 KiB on a Recorder of nn.Linear(200, 200) (the issue's case):
    EFBIG on every spool write; snapshot() refuses after its bound, close() names the rest."""
    code = _FSIZE_CHILD.format(root=str(ROOT), spool=str(tmp_path / "spool"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["refused"], out
    assert out["named"] is not None and "File too large" in out["named"], out
    assert _named(Exception(out["named"])) == out["ack"]
    assert not list((tmp_path / "spool").rglob("*.npz"))


def test_default_spool_folders_are_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSETOPO_HOME", str(tmp_path / "home"))
    rec = Recorder(torch.nn.Linear(3, 2), run="private", connection=NOWHERE)
    try:
        for folder in (rec.spool_root, rec.spool.path, rec.spool_root.parent):
            assert folder.stat().st_mode & 0o777 == 0o700, folder
    finally:
        rec.close()


def test_unwritable_spool_dir_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="spool_dir") as err:
        Recorder(torch.nn.Linear(3, 2), run="ro", connection=NOWHERE, spool_dir=blocker / "x")
    assert "\n" not in str(err.value)


def test_run_name_must_be_a_string(tmp_path):
    with pytest.raises(InputError, match="must be a string, not int"):
        Recorder(torch.nn.Linear(3, 2), run=123, connection=NOWHERE, spool_dir=tmp_path)


def test_empty_metric_name_hint(tmp_path):
    rec = Recorder(torch.nn.Linear(3, 2), run="metrics", connection=NOWHERE, spool_dir=tmp_path)
    try:
        with pytest.raises(InputError) as err:
            rec.snapshot(0, metrics={"": 1.0})
        assert "metric name is empty" in str(err.value) and "--run" not in str(err.value)
    finally:
        rec.close()
