"""Every setting sparsetopo reads from the environment, read in one place.

:func:`environment` reads all the variables below in one go, when asked (so a changed
environment is seen by the next command or test); the modules that use them validate the values
and name the variable in their error messages. Precedence, for the managed server's settings:
command-line option (remembered in ``$SPARSETOPO_HOME/settings.json``) < environment variable,
over the defaults; the whole table is in docs/configuration.md.

========================================= ==================================================
variable                                  used by
========================================= ==================================================
``SPARSETOPO_HOME``, ``XDG_DATA_HOME``    ``server.config.home_dir``: the managed server's home
``SPARSETOPO_BOLT_PORT``, ``_HTTP_PORT``  ``server.config.ServerSettings.load``
``SPARSETOPO_HEAP``, ``_PAGECACHE``       ``server.config.ServerSettings.load``
``SPARSETOPO_NICE``                       ``server.config.ServerSettings.load``
``SPARSETOPO_NEO4J_SETTINGS``             ``server.config.neo4j_overrides`` (extra neo4j.conf)
``NEO4J_URI``, ``_USER``, ``_PASSWORD``   ``server.config.external_connection``
``NEO4J_DATABASE``                        ``server.config.external_connection`` and
                                          ``graphstore.connection.resolve_connection``
``SPARSETOPO_MAX_RETRY_SECONDS``          ``graphstore.connection.max_retry_seconds``
``SPARSETOPO_WRITER``                     ``graphstore.backend`` (the snapshot writer)
``JAVA_HOME``                             ``server.process`` (Java and javac)
``XDG_CACHE_HOME``                        :func:`cache_home` (compiled analysis kernels)
========================================= ==================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Environment", "cache_home", "environment"]


@dataclass(frozen=True)
class Environment:
    """The raw values of sparsetopo's environment variables (None when unset)."""

    sparsetopo_home: str | None
    xdg_data_home: str | None
    xdg_cache_home: str | None
    bolt_port: str | None
    http_port: str | None
    heap: str | None
    pagecache: str | None
    nice: str | None
    neo4j_settings: str | None
    max_retry_seconds: str | None
    writer: str | None
    neo4j_uri: str | None
    neo4j_user: str | None
    neo4j_password: str | None
    neo4j_database: str | None
    java_home: str | None


def environment() -> Environment:
    """Read every environment variable sparsetopo uses (see the module's table)."""
    get = os.environ.get
    return Environment(
        sparsetopo_home=get("SPARSETOPO_HOME"),
        xdg_data_home=get("XDG_DATA_HOME"),
        xdg_cache_home=get("XDG_CACHE_HOME"),
        bolt_port=get("SPARSETOPO_BOLT_PORT"),
        http_port=get("SPARSETOPO_HTTP_PORT"),
        heap=get("SPARSETOPO_HEAP"),
        pagecache=get("SPARSETOPO_PAGECACHE"),
        nice=get("SPARSETOPO_NICE"),
        neo4j_settings=get("SPARSETOPO_NEO4J_SETTINGS"),
        max_retry_seconds=get("SPARSETOPO_MAX_RETRY_SECONDS"),
        writer=get("SPARSETOPO_WRITER"),
        neo4j_uri=get("NEO4J_URI"),
        neo4j_user=get("NEO4J_USER"),
        neo4j_password=get("NEO4J_PASSWORD"),
        neo4j_database=get("NEO4J_DATABASE"),
        java_home=get("JAVA_HOME"),
    )


def cache_home() -> Path:
    """Return sparsetopo's cache folder: ``$XDG_CACHE_HOME/sparsetopo`` or ``~/.cache/sparsetopo``."""
    base = environment().xdg_cache_home or str(Path.home() / ".cache")
    return Path(base) / "sparsetopo"
