"""Whether a run that says ``status = 'recording'`` still has a live writer.

A writer holds a lease on its Run node (``lease_owner``, ``lease_expires_at`` in milliseconds on
the server's clock; docs/decisions/0003-writer-lease.md). A run that is still ``recording`` but
whose lease is absent or expired was left by a writer that crashed or was killed: it is shown as
``interrupted``, with how to resume it.
"""

from __future__ import annotations

from typing import Any

from neo4j import Driver

from sparsetopo.graphstore.runs import list_runs

__all__ = [
    "RESUME_HINT",
    "effective_status",
    "ping",
    "run_states",
]

#: What to do about an interrupted run (shown by `sparsetopo runs` and `run show`).
RESUME_HINT = (
    "its writer stopped before finishing; run the same `sparsetopo ingest` command again (or "
    "create a Recorder for the run) to resume, or `sparsetopo run delete NAME`"
)


def run_states(driver: Driver, database: str | None = None) -> dict[str, str]:
    """Run name -> status, with ``recording`` runs whose lease is absent or expired reported
    as ``interrupted``.

    Parameters
    ----------
    driver : neo4j.Driver
    database : str, optional

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> run_states(driver)["zhang-prune"]         # doctest: +SKIP
    'complete'
    """
    return {r["name"]: effective_status(r) for r in list_runs(driver, database)}


def effective_status(run: dict[str, Any]) -> str:
    """``interrupted`` for a ``recording`` run without a live lease, else its status.

    ``run`` is a row of :func:`~sparsetopo.graphstore.runs.list_runs` (``status``,
    ``lease_live``).

    Examples
    --------
    >>> effective_status({"status": "recording", "lease_live": False})
    'interrupted'
    >>> effective_status({"status": "recording", "lease_live": True})
    'recording'
    """
    status = run.get("status") or ""
    if status == "recording" and not run.get("lease_live"):
        return "interrupted"
    return status


def ping(driver: Driver, database: str | None = None) -> None:
    """Have the server answer one trivial statement, or raise the driver's error.

    An auto-commit transaction, so the driver does not retry: a server that is gone fails at
    once (the analysis executors' server watch bounds the wait with a thread).
    """
    with driver.session(database=database) as s:
        s.run("RETURN 1").consume()
