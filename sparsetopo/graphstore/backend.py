"""Which snapshot writer to use: the server-side plugin when the server has the right version of
it, else the Cypher writer (docs/decisions/0007-server-side-writer.md).

The choice comes from, in order: the ``writer`` argument of :class:`~sparsetopo.graphstore.
writer.RunWriter`, the ``SPARSETOPO_WRITER`` environment variable (``auto``, ``plugin`` or
``cypher``), else ``auto``. ``auto`` uses the plugin if ``sparsetopo.version()`` on the server
returns :data:`PLUGIN_VERSION` and falls back to Cypher otherwise, saying why in the log;
``plugin`` fails with a message naming the fix instead of falling back.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from neo4j import Driver
from neo4j.exceptions import ClientError

from sparsetopo.errors import InputError, StoreError

_log = logging.getLogger(__name__)

#: The plugin protocol this client speaks (sparsetopo/server/plugin/pom.xml's version and
#: SnapshotWriter.VERSION must be equal).
PLUGIN_VERSION = "2"
CHOICES = ("auto", "plugin", "cypher")
ENV = "SPARSETOPO_WRITER"


@dataclass(frozen=True)
class WriterChoice:
    """The writer in use and why: ``backend`` is "plugin" or "cypher"; ``plugin_version`` is
    what the server reports (None: no plugin); ``reason`` is one line for logs and status."""

    backend: str
    plugin_version: str | None
    reason: str


def plugin_version(driver: Driver, database: str | None = None) -> str | None:
    """The version of sparsetopo's plugin on the server, or None if it has none."""
    try:
        records, _, _ = driver.execute_query("RETURN sparsetopo.version() AS v", database_=database)
    except ClientError as exc:
        if "Unknown function" in str(exc) or "sparsetopo.version" in str(exc):
            return None
        raise
    return str(records[0]["v"]) if records else None


def requested_writer(requested: str | None = None) -> str:
    """The requested writer: the argument, else $SPARSETOPO_WRITER, else "auto"."""
    value = (requested or os.environ.get(ENV) or "auto").strip().lower()
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
    if found is None:
        why = "the server has no sparsetopo plugin"
    else:
        why = f"the server's sparsetopo plugin is version {found}, this client needs {PLUGIN_VERSION}"
    fix = ("run `sparsetopo server install --force` for the managed server, or copy "
           f"sparsetopo-neo4j-plugin-{PLUGIN_VERSION}.jar into the server's plugins folder")
    if wanted == "plugin":
        raise StoreError(f"the plugin writer was requested but {why}; {fix}")
    message = f"{why}; using the Cypher writer (slower). To use the plugin: {fix}"
    if found is None:
        _log.info("%s", message)
    else:
        _log.warning("%s", message)
    return WriterChoice("cypher", found, f"Cypher writer ({why})")
