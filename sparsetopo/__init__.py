"""sparsetopo: snapshot sparse neural networks into Neo4j and query how their wiring evolves."""

from __future__ import annotations

from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

try:
    __version__ = _metadata.version("sparsetopo")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from sparsetopo.api.store import Store
    from sparsetopo.ingest.recorder import Recorder


def connect(**kwargs: Any) -> Store:
    """Open a :class:`~sparsetopo.api.store.Store` on the resolved Neo4j.

    NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD / NEO4J_DATABASE when set, otherwise the managed
    local server (started on first use).
    """
    from sparsetopo.api.store import Store

    return Store.connect(**kwargs)


def __getattr__(name: str) -> Any:
    # lazy: ``import sparsetopo`` must stay cheap and must not need torch
    if name == "Recorder":
        from sparsetopo.ingest.recorder import Recorder

        return Recorder
    if name == "Store":
        from sparsetopo.api.store import Store

        return Store
    raise AttributeError(name)


__all__ = ["Recorder", "Store", "__version__", "connect"]
