"""A query of the Cypher library made ready to run.

Its parameters are checked against the stored runs, steps and layers, and its variant (plain
Cypher or sparsetopo's server plugin) is chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neo4j import Driver

from sparsetopo.api.lookup import check_query_params
from sparsetopo.errors import InputError
from sparsetopo.graphstore.backend import CHOICES, choose_query_backend
from sparsetopo.queries.library import PLUGIN_VARIANTS, get_query

__all__ = ["prepare_query"]


def prepare_query(
    driver: Driver, name: str, params: Mapping[str, Any], backend: str | None = None,
    database: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Return the text and checked parameters of library query ``name`` for ``backend``.

    Parameters
    ----------
    driver : neo4j.Driver
        Connection (the runs named in ``params`` and the server's plugin are looked up).
    name : str
        Library query name.
    params : mapping
        Its parameters.
    backend : {"auto", "plugin", "cypher"}, optional
        As ``Store.query``'s ``backend_`` (default "auto").
    database : str, optional
        Database name.

    Returns
    -------
    (str, dict)
        The statement without its Browser check lines, and the parameters.

    Raises
    ------
    InputError
        If the query, a parameter or the backend is unknown or does not apply.
    StoreError
        If a run, step or layer does not exist, or the plugin is needed but missing.
    """
    q = get_query(name)
    checked = q.check(dict(params))
    wanted = "auto" if backend is None else str(backend).strip().lower()
    if wanted not in CHOICES:
        raise InputError(f"backend_ is {backend!r}; use one of {', '.join(CHOICES)}")
    variant = PLUGIN_VARIANTS.get(name)
    uses = "plugin" if q.needs_plugin else "cypher"
    if variant is None and wanted not in ("auto", uses):
        raise InputError(
            f"query {name!r} runs in {'the plugin' if uses == 'plugin' else 'plain Cypher'} "
            f"only, so backend {wanted!r} does not apply; queries with both variants: "
            f"{', '.join(PLUGIN_VARIANTS)}"
        )
    check_query_params(driver, checked, database)
    if variant is not None:
        if choose_query_backend(driver, database, wanted, f"query {name!r}").backend == "plugin":
            q = get_query(variant)
    elif q.needs_plugin:
        choose_query_backend(driver, database, "plugin", f"query {name!r}")
    return q.unguarded, checked
