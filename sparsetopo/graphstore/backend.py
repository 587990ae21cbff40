"""Server-side plugin or plain Cypher: which snapshot writer to use, and which variant of a
library query that has a plugin variant (``overlap``); docs/decisions/0007-server-side-writer.md.

The plugin is used only when the server has the right version of it (``sparsetopo.version()``
returns :data:`PLUGIN_VERSION`). The writer choice comes from, in order: the ``writer`` argument
of :class:`~sparsetopo.graphstore.writer.RunWriter`, the ``SPARSETOPO_WRITER`` environment
variable (``auto``, ``plugin`` or ``cypher``), else ``auto``. ``auto`` uses the plugin if the
server has it and falls back to Cypher otherwise, saying why in the log; ``plugin`` fails with a
message naming the fix instead of falling back. Library queries choose the same way
(:func:`choose_query_backend`, ``Store.query(..., backend_=...)``, ``sparsetopo query
--backend``), without an environment variable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from neo4j import Driver
from neo4j.exceptions import ClientError

from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.connection import READ
from sparsetopo.settings import environment

__all__ = [
    "CHOICES",
    "ENV",
    "PLUGIN_VERSION",
    "BackendChoice",
    "WriterChoice",
    "choose_query_backend",
    "choose_writer",
    "plugin_version",
    "requested_writer",
]

_log = logging.getLogger(__name__)

#: The plugin protocol this client speaks (sparsetopo/server/plugin/pom.xml's version and
#: SnapshotWriter.VERSION must be equal).
PLUGIN_VERSION = "2"
CHOICES = ("auto", "plugin", "cypher")
ENV = "SPARSETOPO_WRITER"


@dataclass(frozen=True)
class BackendChoice:
    """The backend in use and why: ``backend`` is "plugin" or "cypher"; ``plugin_version`` is
    what the server reports (None: no plugin); ``reason`` is one line for logs and status."""

    backend: str
    plugin_version: str | None
    reason: str


#: The snapshot writer's choice (the name the writer has always used).
WriterChoice = BackendChoice


def plugin_version(driver: Driver, database: str | None = None) -> str | None:
    """The version of sparsetopo's plugin on the server, or None if it has none."""
    try:
        records, _, _ = driver.execute_query("RETURN sparsetopo.version() AS v",
                                             database_=database, routing_=READ)  # fmt: skip
    except ClientError as exc:
        if "Unknown function" in str(exc) or "sparsetopo.version" in str(exc):
            return None
        raise
    return str(records[0]["v"]) if records else None


def requested_writer(requested: str | None = None) -> str:
    """The requested writer: the argument, else $SPARSETOPO_WRITER, else "auto"."""
    value = (requested or environment().writer or "auto").strip().lower()
    if value not in CHOICES:
        source = "writer argument" if requested else f"${ENV}"
        raise InputError(f"{source} is {value!r}; use one of {', '.join(CHOICES)}")
    return value


def choose_writer(
    driver: Driver, database: str | None = None, requested: str | None = None
) -> WriterChoice:
    """Pick the snapshot writer for this server.

    Parameters
    ----------
    driver, database
        The server to write to.
    requested
        "auto", "plugin", "cypher" or None (then $SPARSETOPO_WRITER, else "auto").

    Returns
    -------
    WriterChoice
        The backend and the reason.

    Raises
    ------
    StoreError
        "plugin" was requested but the server lacks it or has another version.
    InputError
        An unknown writer name.
    """
    wanted = requested_writer(requested)
    if wanted == "cypher":
        return WriterChoice("cypher", None, "Cypher writer (requested)")
    found = plugin_version(driver, database)
    if found == PLUGIN_VERSION:
        return WriterChoice("plugin", found, f"server-side plugin version {found}")
    why, fix = _missing_plugin(found)
    if wanted == "plugin":
        raise StoreError(f"the plugin writer was requested but {why}; {fix}")
    _log_fallback(found, f"{why}; using the Cypher writer (slower). To use the plugin: {fix}")
    return WriterChoice("cypher", found, f"Cypher writer ({why})")


def choose_query_backend(
    driver: Driver, database: str | None = None, requested: str | None = None,
    query: str = "the query",
) -> BackendChoice:
    """Pick the plugin or the plain-Cypher variant of a library query that has both.

    Parameters
    ----------
    driver, database
        The server the query runs on.
    requested
        "auto" (None too): the plugin variant if the server has the plugin at
        :data:`PLUGIN_VERSION`, else plain Cypher (logged); "plugin": the plugin variant or a
        StoreError; "cypher": plain Cypher without asking the server.
    query
        The query's name, for messages.

    Returns
    -------
    BackendChoice
        The backend and the reason.

    Raises
    ------
    StoreError
        "plugin" was requested but the server lacks it or has another version.
    InputError
        An unknown backend name.

    Examples
    --------
    >>> choose_query_backend(driver, requested="cypher").backend  # doctest: +SKIP
    'cypher'
    """
    wanted = "auto" if requested is None else str(requested).strip().lower()
    if wanted not in CHOICES:
        raise InputError(f"backend is {requested!r}; use one of {', '.join(CHOICES)}")
    if wanted == "cypher":
        return BackendChoice("cypher", None, f"plain Cypher {query} (requested)")
    found = plugin_version(driver, database)
    if found == PLUGIN_VERSION:
        return BackendChoice("plugin", found, f"{query} by the server-side plugin version {found}")
    why, fix = _missing_plugin(found)
    if wanted == "plugin":
        raise StoreError(f"{query} by the plugin was requested but {why}; {fix}")
    _log_fallback(found, f"{why}; running {query} in plain Cypher (slower). To use the plugin: "
                         f"{fix}")
    return BackendChoice("cypher", found, f"plain Cypher {query} ({why})")


def _missing_plugin(found: str | None) -> tuple[str, str]:
    """Why the plugin cannot be used (the server reports ``found``) and how to fix it."""
    if found is None:
        why = "the server has no sparsetopo plugin"
    else:
        why = f"the server's sparsetopo plugin is version {found}, this client needs {PLUGIN_VERSION}"
    fix = ("run `sparsetopo server install --force` for the managed server, or copy "
           f"sparsetopo-neo4j-plugin-{PLUGIN_VERSION}.jar into the server's plugins folder")
    return why, fix


def _log_fallback(found: str | None, message: str) -> None:
    # no plugin is normal (Aura, Docker); another version is a stale jar worth a warning
    if found is None:
        _log.info("%s", message)
    else:
        _log.warning("%s", message)
