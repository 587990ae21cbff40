"""Every shared fixture of the suite; integration tests get a real Neo4j (the managed server).

Layout: ``tests/unit/<room>/`` needs no server (``bash scripts/test.sh --fast`` runs it, without
the tests marked ``slow``), ``tests/integration/`` and ``tests/faults/`` talk to the real server
(marked ``integration`` here). Helpers are plain modules in ``tests/support/``, imported by
package path; no test module imports from another.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _own_server_per_worker() -> None:
    """Under pytest-xdist every worker but the first gets its own managed server: home
    ``<SPARSETOPO_HOME>-gwK``, ports BOLT+K and HTTP+K (scripts/test.sh starts them beside the
    first one). Workers then never see each other's runs, leases or schema changes, and the
    CLI processes a test starts inherit the worker's server through the environment."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if worker == "gw0":
        return
    from sparsetopo.server.process import ManagedServer

    first = ManagedServer()
    k = int(worker.removeprefix("gw"))
    home = Path(f"{first.home}-{worker}")
    os.environ["SPARSETOPO_TEST_JARS_FROM"] = str(first.home)
    os.environ.update(SPARSETOPO_HOME=str(home),
                      SPARSETOPO_BOLT_PORT=str(first.settings.bolt_port + k),
                      SPARSETOPO_HTTP_PORT=str(first.settings.http_port + k))


_own_server_per_worker()

from tests.support.chromium import DevTools, devtools_session  # noqa: E402
from tests.support.data import ZHANG  # noqa: E402

# Helper modules are imported by the tests that use them; they hold no doctests to collect (and
# some import an optional extra that only those tests check for).
collect_ignore_glob = ["support/*.py", "faults/harness.py", "faults/malformed.py", "faults/proxy.py"]


@pytest.fixture(scope="session")
def managed_server():
    """The managed local server of SPARSETOPO_HOME, started for the session if not running.

    scripts/test.sh points SPARSETOPO_HOME at a throw-away folder, so tests never touch a
    user's own store.
    """
    from sparsetopo.server.process import ManagedServer

    if os.environ.get("NEO4J_URI"):
        pytest.skip("integration tests use the managed server; unset NEO4J_URI")
    server = ManagedServer()
    jars = os.environ.get("SPARSETOPO_TEST_JARS_FROM")
    if jars:  # a worker's own server shares the first one's jars, not its store
        server.home.mkdir(parents=True, exist_ok=True)
        for folder in ("lib", "plugins"):
            if not (server.home / folder).exists() and (Path(jars) / folder).exists():
                (server.home / folder).symlink_to(Path(jars) / folder)
    started = server.start()
    yield server
    own = os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0"  # a worker's throw-away server
    if started and (own or os.environ.get("SPARSETOPO_TEST_STOP_SERVER") == "1"):
        server.stop()


@pytest.fixture(scope="session")
def driver(managed_server):
    from sparsetopo.graphstore.connection import open_driver

    drv, _ = open_driver(managed_server.connection())
    yield drv
    drv.close()


@pytest.fixture
def run_name(driver) -> Iterator[str]:
    """A unique run name, deleted after the test."""
    from sparsetopo.graphstore.runs import delete_run

    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    delete_run(driver, name)


@pytest.fixture
def proxy(managed_server):
    """A fault-injecting TCP proxy in front of the managed server's Bolt port."""
    from tests.faults.proxy import FaultProxy

    p = FaultProxy(managed_server.settings.bolt_port)
    yield p
    p.close()


@pytest.fixture
def devtools(tmp_path) -> Iterator[DevTools]:
    """Headless Chromium over the DevTools protocol (skips when Chromium is not installed)."""
    with devtools_session(tmp_path) as tools:
        yield tools


@pytest.fixture
def zhang_dir() -> Path:
    """The Zhang et al. 2023 pruning run (150 hidden neurons, one edge list per epoch)."""
    return ZHANG / "pruning_n_150_p_0.05"


@pytest.fixture(autouse=True)
def _torch_one_thread() -> None:
    # Other suites run concurrently on two cores. Torch is configured only where a test module
    # imported it already: the server-free analysis tests never pay for importing it.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = str(item.fspath)
        if "/integration/" in path or "/faults/" in path:
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist (the dev extra)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadfile`` (what scripts/test.sh asks for) hands out the longest files first."""
    if config.getoption("dist", None) != "loadfile":
        return None
    from tests.support.schedule import LongestFirstScheduling

    return LongestFirstScheduling(config, log)
