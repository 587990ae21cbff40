"""One way to get a driver for everything: NEO4J_* variables, else the managed local server.

Routing, database and retries (docs/scale-out.md):

* Reads go out as reads (``routing_=RoutingControl.READ`` / ``execute_read``), writes as writes,
  so on a ``neo4j://`` / ``neo4j+s://`` cluster reads are served by secondaries or followers.
* ``NEO4J_DATABASE`` names the database for the external server and for the managed one; the
  driver is opened with it as its default, so every query of sparsetopo goes there unless a
  caller names another database explicitly. An unknown name fails at connect time with one line.
* Managed transactions (``execute_query``, ``execute_read``, ``execute_write``) are retried by
  the driver on transient errors (leader switch, deadlock, connection reset,
  ``ServiceUnavailable``) for at most :data:`MAX_RETRY_SECONDS` (``SPARSETOPO_MAX_RETRY_SECONDS``)
  with exponential back-off; after that the error reaches the caller (the Recorder spools).
* Sessions opened with :func:`session` share the driver's ``execute_query`` bookmark manager, so
  a read that follows a write on the same driver sees that write, also on a cluster.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from neo4j import READ_ACCESS, WRITE_ACCESS, Driver, GraphDatabase, RoutingControl, Session
from neo4j.exceptions import AuthError, ClientError, ServiceUnavailable

from sparsetopo.errors import InputError, ServerError
from sparsetopo.server.config import ConnectionInfo, external_connection
from sparsetopo.server.process import ManagedServer
from sparsetopo.settings import environment

__all__ = [
    "FAIL_FAST",
    "MAX_RETRY_SECONDS",
    "READ",
    "max_retry_seconds",
    "open_driver",
    "resolve_connection",
    "session",
]

_log = logging.getLogger(__name__)

#: Upper bound (seconds) of the driver's retries of one managed transaction on transient errors.
MAX_RETRY_SECONDS = 30.0

#: Routing of read-only queries (``driver.execute_query(..., routing_=READ)``).
READ = RoutingControl.READ


def max_retry_seconds() -> float:
    """The retry bound: SPARSETOPO_MAX_RETRY_SECONDS when set, else :data:`MAX_RETRY_SECONDS`.

    Raises
    ------
    ServerError
        When the variable is not a non-negative number.
    """
    raw = environment().max_retry_seconds
    if not raw:
        return MAX_RETRY_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ServerError(
            f"SPARSETOPO_MAX_RETRY_SECONDS={raw!r} is not a number of seconds >= 0; e.g. 30"
        )
    return value


def resolve_connection(
    start: bool = True, log: Callable[[str], None] | None = _log.info
) -> ConnectionInfo:
    """NEO4J_URI/USER/PASSWORD/DATABASE when NEO4J_URI is set; otherwise the managed server,
    installed and started on first use (unless ``start`` is False), with NEO4J_DATABASE as its
    database when set."""
    external = external_connection()
    if external is not None:
        return external
    server = ManagedServer()
    if start and not server.is_running():
        server.start(log=log)
    info = server.connection()
    database = environment().neo4j_database or None
    return dataclasses.replace(info, database=database) if database else info


#: Driver settings of a fail-fast driver (see :func:`open_driver`): no transaction retries, and
#: connecting or waiting for a pooled connection gives up after a few seconds.
FAIL_FAST: dict[str, Any] = {
    "max_transaction_retry_time": 0.0,
    "connection_timeout": 3.0,
    "connection_acquisition_timeout": 5.0,
}


def open_driver(
    info: ConnectionInfo | None = None, max_retry: float | None = None, fail_fast: bool = False
) -> tuple[Driver, ConnectionInfo]:
    """A verified driver for `info` (resolved when None), with errors that say what to fix.

    Parameters
    ----------
    info : ConnectionInfo, optional
        Where to connect; resolved with :func:`resolve_connection` when None.
    max_retry : float, optional
        Seconds the driver keeps retrying a managed transaction on transient errors
        (default :func:`max_retry_seconds`).
    fail_fast : bool
        Configure the driver with :data:`FAIL_FAST`: a transaction that fails because the
        server went away is not retried by the driver (the caller has its own retry, e.g. the
        Recorder's spool), and connecting gives up after 3 s.

    Returns
    -------
    tuple of (neo4j.Driver, ConnectionInfo)
        The driver (its default database is ``info.database``) and the connection info.

    Raises
    ------
    ServerError
        Wrong credentials or an unreachable server.
    InputError
        The database (``NEO4J_DATABASE``) does not exist.
    """
    info = info or resolve_connection()
    retry = max_retry_seconds() if max_retry is None else max_retry
    # Deprecation notes and the like are for the tool's authors, not for its users.
    # `database` is the default of every session and execute_query of this driver.
    settings: dict[str, Any] = {"max_transaction_retry_time": retry}
    if fail_fast:
        settings.update(FAIL_FAST)
    driver = GraphDatabase.driver(
        info.uri, auth=(info.user, info.password), notifications_min_severity="OFF",
        database=info.database, **settings,
    )
    try:
        driver.verify_connectivity()
        # verify_connectivity does not look at the database; a trivial read does.
        driver.execute_query("RETURN 1", routing_=READ)
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
    except ClientError as exc:
        driver.close()
        if exc.code == "Neo.ClientError.Database.DatabaseNotFound":
            # A setting to fix, not an outage: InputError, so that a Recorder fails at once
            # instead of spooling until the database appears.
            raise InputError(
                f"database {info.database!r} does not exist on {info.uri}: set NEO4J_DATABASE "
                "to an existing one (`SHOW DATABASES` lists them; Neo4j Community serves one "
                "user database, 'neo4j') or unset it for the server's default"
            ) from exc
        raise ServerError(f"cannot use database {info.database!r} on {info.uri}: "
                          f"{exc.message}") from exc
    return driver, info


def session(driver: Driver, database: str | None = None, write: bool = False) -> Session:
    """A session for explicit transactions that shares the driver's ``execute_query`` bookmark
    manager (reads after writes are causally consistent on a cluster).

    Parameters
    ----------
    driver
        An open driver (:func:`open_driver`).
    database
        The database; None = the driver's default (``NEO4J_DATABASE`` or the server's default).
    write
        Default access mode: write (routed to the leader) when True, else read.

    Returns
    -------
    neo4j.Session
        Use it as a context manager; prefer ``execute_read`` / ``execute_write`` inside it.

    Examples
    --------
    >>> with session(driver, write=True) as s:                  # doctest: +SKIP
    ...     s.execute_write(lambda tx: tx.run("RETURN 1").consume())
    """
    # database=None leaves the driver's default in place (None values are not applied).
    return driver.session(
        database=database,
        bookmark_manager=driver.execute_query_bookmark_manager,
        default_access_mode=WRITE_ACCESS if write else READ_ACCESS,
    )
