"""One way to get a driver for everything: NEO4J_* variables, else the managed local server."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from sparsetopo.errors import ServerError
from sparsetopo.server.config import ConnectionInfo, external_connection
from sparsetopo.server.process import ManagedServer

_log = logging.getLogger(__name__)


def resolve_connection(
    start: bool = True, log: Callable[[str], None] | None = _log.info
) -> ConnectionInfo:
    """NEO4J_URI/USER/PASSWORD/DATABASE when NEO4J_URI is set; otherwise the managed server,
    installed and started on first use (unless ``start`` is False)."""
    external = external_connection()
    if external is not None:
        return external
    server = ManagedServer()
    if start and not server.is_running():
        server.start(log=log)
    return server.connection()


#: Driver settings of a fail-fast driver (see :func:`open_driver`): no transaction retries, and
#: connecting or waiting for a pooled connection gives up after a few seconds.
FAIL_FAST: dict[str, Any] = {
    "max_transaction_retry_time": 0.0,
    "connection_timeout": 3.0,
    "connection_acquisition_timeout": 5.0,
}


def open_driver(
    info: ConnectionInfo | None = None, fail_fast: bool = False
) -> tuple[Driver, ConnectionInfo]:
    """A verified driver for `info` (resolved when None), with errors that say what to fix.

    Parameters
    ----------
    info : ConnectionInfo, optional
        Where to connect; resolved with :func:`resolve_connection` when None.
    fail_fast : bool
        Configure the driver with :data:`FAIL_FAST`: a transaction that fails because the
        server went away is not retried by the driver (the caller has its own retry, e.g. the
        Recorder's spool), and connecting gives up after 3 s.

    Returns
    -------
    tuple of (neo4j.Driver, ConnectionInfo)

    Raises
    ------
    ServerError
        Wrong credentials or the server cannot be reached.
    """
    info = info or resolve_connection()
    # Deprecation notes and the like are for the tool's authors, not for its users.
    extra = FAIL_FAST if fail_fast else {}
    driver = GraphDatabase.driver(
        info.uri, auth=(info.user, info.password), notifications_min_severity="OFF", **extra
    )
    try:
        driver.verify_connectivity()
    except AuthError as exc:
        driver.close()
        hint = (
            "the managed server's password file no longer matches its store; see "
            "`sparsetopo server status`"
            if info.managed
            else "check NEO4J_USER and NEO4J_PASSWORD"
        )
        raise ServerError(f"wrong credentials for {info.uri} as user {info.user!r}: {hint}") from exc
    except (ServiceUnavailable, OSError) as exc:
        driver.close()
        hint = (
            "start it with `sparsetopo server start`"
            if info.managed
            else "check NEO4J_URI and that the server runs and is reachable"
        )
        raise ServerError(f"cannot reach Neo4j at {info.uri}: {exc}. {hint}") from exc
    return driver, info
