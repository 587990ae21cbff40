"""Shared test configuration: integration tests get a real Neo4j (the managed server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ZHANG = DATA / "zhang2023-sparse-rnn" / "MNIST"


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
    started = server.start()
    yield server
    if started and os.environ.get("SPARSETOPO_TEST_STOP_SERVER") == "1":
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


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
