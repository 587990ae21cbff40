"""The short fault campaign (issue 10): a fixed, seeded subset of scripts/faults.py's faults
against a second managed server that the test may kill. The long version: scripts/faults.py."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from tests.support.extras import requires

requires("torch")

from tests.faults.harness import FaultServer, mount_small_fs, plan, run_one, unmount
from tests.faults.proxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.torch, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def fault_server(managed_server, tmp_path_factory):
    home = tmp_path_factory.mktemp("fault-home")
    bolt = int(os.environ.get("SPARSETOPO_TEST_FAULT_BOLT_PORT") or _free_port())
    http = int(os.environ.get("SPARSETOPO_TEST_FAULT_HTTP_PORT") or _free_port())
    server = FaultServer(home, bolt, http, managed_server.home)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def spool_fs(tmp_path_factory):
    path = tmp_path_factory.mktemp("small-fs")
    mounted = mount_small_fs(path)
    yield path if mounted else None
    if mounted:
        unmount(path)


def _short_plan() -> list[tuple[str, str, int]]:
    return plan(long=False, disk_full=True)


@pytest.mark.parametrize("scenario,fault,seed", _short_plan(),
                         ids=[f"{s}-{f}" for s, f, _ in _short_plan()])
def test_fault(scenario, fault, seed, fault_server, spool_fs, tmp_path: Path):
    if fault == "spool-full" and spool_fs is None:
        pytest.skip("a small tmpfs for the disk-full fault needs root")
    proxy = FaultProxy(fault_server.server.settings.bolt_port)
    try:
        record = run_one(scenario, fault, seed, fault_server, proxy, tmp_path, spool_fs)
    finally:
        proxy.close()
    assert record.problems == []
    assert record.snapshots_lost == 0
    assert record.ok
