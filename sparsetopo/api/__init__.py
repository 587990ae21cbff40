"""The notebook API: :class:`Store`, the analysis pipeline and plots.

Importing this package is cheap; the Store (and with it the Neo4j driver) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sparsetopo.api.store import AnalysisReport, Store


def __getattr__(name: str) -> Any:
    # lazy: importing sparsetopo.api must not pull in the driver and the analysis layer
    if name in ("Store", "AnalysisReport"):
        from sparsetopo.api import store

        return getattr(store, name)
    raise AttributeError(name)


__all__ = ["AnalysisReport", "Store"]
