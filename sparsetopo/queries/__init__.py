"""Queries over stored runs: the Cypher library (``cypher/*.cypher``), the :class:`Store` API
that notebooks and the CLI use, the per-snapshot analysis run by ``Store.analyze`` and plots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sparsetopo.queries.store import AnalysisReport, Store


def __getattr__(name: str) -> Any:
    # lazy: importing sparsetopo.queries must not pull in the driver and the analysis layer
    if name in ("Store", "AnalysisReport"):
        from sparsetopo.queries import store

        return getattr(store, name)
    raise AttributeError(name)


__all__ = ["AnalysisReport", "Store"]
