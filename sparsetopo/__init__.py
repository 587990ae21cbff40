"""sparsetopo: snapshot sparse neural networks into Neo4j and query how their wiring evolves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sparsetopo.queries.store import Store


def connect(**kwargs: Any) -> Store:
    """Open a :class:`~sparsetopo.queries.store.Store` on the resolved Neo4j.

    NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD / NEO4J_DATABASE when set, otherwise the managed
    local server (started on first use).
    """
    from sparsetopo.queries.store import Store

    return Store.connect(**kwargs)


__all__ = ["__version__", "connect"]
