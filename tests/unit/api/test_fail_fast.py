"""Issue 24 item 5: the analysis checks the server between tasks (one line, within 10 s) and
its pool workers die with their parent."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
from neo4j import GraphDatabase

from sparsetopo.api.executors import ServerWatch
from sparsetopo.errors import ServerError
from sparsetopo.graphstore.lease import holder_is_gone, new_owner_id
from tests.support.procs import alive, children


def test_server_watch_fails_within_ten_seconds_in_one_line():
    driver = GraphDatabase.driver("bolt://127.0.0.1:9", auth=("neo4j", "x"))
    try:
        watch = ServerWatch(driver, None)
        start = time.monotonic()
        with pytest.raises(ServerError) as err:
            watch.check(force=True)
        assert time.monotonic() - start < 10
        assert "\n" not in str(err.value) and "run the same command again" in str(err.value)
        watch.check()  # throttled: no second check right after the first
    finally:
        driver.close()


def test_server_watch_bounds_a_server_that_never_answers():
    import socket

    with socket.socket() as listener:  # accepts connections, never speaks Bolt
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        driver = GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", "x"),
                                      connection_timeout=60)
        try:
            watch = ServerWatch(driver, None, timeout=2.0)
            start = time.monotonic()
            with pytest.raises(ServerError):
                watch.check(force=True)
            assert time.monotonic() - start < 5
        finally:
            driver.close()


_POOL_CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from sparsetopo.api.pipeline import run_parallel

    def spin(k):
        time.sleep(600)
        return {{}}

    run_parallel(spin, [(k,) for k in range(20)], workers=2)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_pool_workers_die_with_their_parent(how):
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[3])
    proc = subprocess.Popen([sys.executable, "-c", _POOL_CHILD.format(root=root)])
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = children(proc.pid)
            time.sleep(0.1)
        assert len(workers) >= 2, "the pool did not start"
        proc.kill() if how == "SIGKILL" else proc.terminate()
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [w for w in workers if alive(w)]
        for w in left:  # clean up before failing
            os.kill(w, 9)
        assert not left, f"workers {left} outlived their parent"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_lease_holder_gone_only_for_dead_local_processes():
    import socket

    assert not holder_is_gone(new_owner_id())  # this process lives
    assert not holder_is_gone(None) and not holder_is_gone("no-host-or-pid")
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(done.stdout)
    assert holder_is_gone(f"abc@{socket.gethostname()}:{dead}")
    assert not holder_is_gone(f"abc@another-host-{os.getpid()}:{dead}")  # other hosts: the TTL
    assert not holder_is_gone(f"abc@{socket.gethostname()}:{os.getppid()}")
