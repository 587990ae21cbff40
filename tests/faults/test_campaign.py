"""The short fault campaign (issue 10): a fixed, seeded subset of scripts/faults.py's faults.
The long version: scripts/faults.py.

The faults that kill or stop the server run against a second managed server (own home and
ports) that the campaign may kill; the proxy and client faults, which never touch the server
process, run against the test session's managed server. A server fault is mostly waiting for a
JVM to boot, so the server faults run in a background thread (one after the other, on the
fault server) while the other faults run in the tests themselves; the test of a server fault
waits for its record and makes the same assertions on it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.support.extras import requires

requires("torch")

from tests.faults import harness
from tests.faults.harness import (
    FaultRecord,
    FaultServer,
    mount_small_fs,
    plan,
    run_one,
    unmount,
)
from tests.faults.proxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.torch, pytest.mark.slow]

Fault = tuple[str, str, int]
_log = logging.getLogger(__name__)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kills_server(fault: str) -> bool:
    return fault.startswith("server-")


def _patches_globals(scenario: str) -> bool:
    """The spool-errno scenario patches SpoolDir.write for the whole process: it must not run
    while a Recorder of a server fault spools in the background."""
    return scenario == "recorder-spool-errno"


def _short_plan() -> list[Fault]:
    """The short plan: first the faults that run in the test (the server faults start in the
    background meanwhile), then the server faults (their tests wait for the records), then
    the ones that must run alone."""
    items = plan(long=False, disk_full=True)
    first = [i for i in items if not _kills_server(i[1]) and not _patches_globals(i[0])]
    server = [i for i in items if _kills_server(i[1])]
    return first + server + [i for i in items if i not in first and i not in server]


def _id(item: Fault) -> str:
    return f"{item[0]}-{item[1]}"


class _ServerFaults:
    """The fault server and the server faults, run one after the other in a background thread:
    start the server, then :func:`run_one` for each fault (exactly what the test would call).
    :meth:`record` waits for one fault's record."""

    def __init__(self, server: FaultServer, todo: list[Fault], work: Path) -> None:
        self.server, self.todo, self.work = server, todo, work
        self.done = {item: threading.Event() for item in todo}
        self.results: dict[Fault, FaultRecord | BaseException] = {}
        self.seconds: dict[Fault, float] = {}  # wall time of each fault in the background
        self.thread = threading.Thread(target=self._run, name="server-faults", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.start()
        except BaseException as exc:  # noqa: BLE001 - raised in each test that needs it
            for item in self.todo:
                self.results[item] = exc
                self.done[item].set()
            return
        for item in self.todo:
            scenario, fault, seed = item
            work = self.work / _id(item)
            work.mkdir(parents=True, exist_ok=True)
            proxy = FaultProxy(self.server.server.settings.bolt_port)
            start = time.monotonic()
            try:
                self.results[item] = run_one(scenario, fault, seed, self.server, proxy, work)
            except BaseException as exc:  # noqa: BLE001 - raised in the fault's test
                self.results[item] = exc
                if not self.server.server.is_running():
                    with contextlib.suppress(Exception):  # the next fault's test reports it
                        self.server.restart()
            finally:
                proxy.close()
                self.seconds[item] = time.monotonic() - start
                self.done[item].set()

    def record(self, item: Fault, timeout: float = 1200.0) -> FaultRecord:
        if item not in self.done:
            raise RuntimeError(f"{_id(item)} is not in this module's server faults")
        if not self.done[item].wait(timeout):
            raise RuntimeError(f"{_id(item)} did not finish within {timeout:.0f} s")
        result = self.results[item]
        _log.warning("%s: %.1f s in the background", _id(item), self.seconds[item])
        if isinstance(result, BaseException):
            raise result
        return result

    def wait_all(self, timeout: float = 1200.0) -> None:
        self.thread.join(timeout)


@pytest.fixture(scope="module")
def server_faults(request, managed_server, tmp_path_factory):
    """Starts the fault server and the selected server faults in the background (none when
    no server fault is selected, e.g. with -k)."""
    selected = [item.callspec.params for item in request.session.items
                if getattr(item, "callspec", None) is not None
                and item.module is request.module]
    todo = [i for i in _short_plan() if _kills_server(i[1])
            and any((p.get("scenario"), p.get("fault"), p.get("seed")) == i for p in selected)]
    home = tmp_path_factory.mktemp("fault-home")
    bolt = int(os.environ.get("SPARSETOPO_TEST_FAULT_BOLT_PORT") or _free_port())
    http = int(os.environ.get("SPARSETOPO_TEST_FAULT_HTTP_PORT") or _free_port())
    server = FaultServer(home, bolt, http, managed_server.home)
    faults = _ServerFaults(server, todo, tmp_path_factory.mktemp("server-faults")) if todo \
        else None
    yield faults
    if faults is not None:
        faults.wait_all()
        server.stop()


@pytest.fixture(scope="module")
def spool_fs(tmp_path_factory):
    path = tmp_path_factory.mktemp("small-fs")
    mounted = mount_small_fs(path)
    yield path if mounted else None
    if mounted:
        unmount(path)


def _drop_leftovers(server: FaultServer) -> None:
    """A scenario deletes its runs (named ``fault-...``) when it ends; if it failed half-way,
    do it here, so nothing of the campaign stays on the shared managed server."""
    from sparsetopo.graphstore.connection import open_driver
    from sparsetopo.graphstore.runs import delete_run

    driver, _ = open_driver(server.connection())
    try:
        records, _, _ = driver.execute_query(
            "MATCH (r:Run) WHERE r.name STARTS WITH 'fault-' RETURN r.name AS name")
        for row in records:
            delete_run(driver, row["name"])
    finally:
        driver.close()


@pytest.mark.parametrize("scenario,fault,seed", _short_plan(),
                         ids=[_id(i) for i in _short_plan()])
def test_fault(scenario, fault, seed, server_faults, managed_server, spool_fs, tmp_path: Path,
               monkeypatch):
    if fault == "spool-full" and spool_fs is None:
        pytest.skip("a small tmpfs for the disk-full fault needs root")
    if _kills_server(fault):
        assert server_faults is not None
        record = server_faults.record((scenario, fault, seed))
    else:
        if _patches_globals(scenario) and server_faults is not None:
            server_faults.wait_all()
        monkeypatch.setattr(harness, "HEAL_SECONDS", 1.0)  # a 1 s outage fails operations too
        server = FaultServer.wrap(managed_server)
        proxy = FaultProxy(server.server.settings.bolt_port)
        try:
            record = run_one(scenario, fault, seed, server, proxy, tmp_path, spool_fs)
        finally:
            proxy.close()
            _drop_leftovers(server)
    assert record.problems == []
    assert record.snapshots_lost == 0
    assert record.ok
