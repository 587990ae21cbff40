"""Whether a run that says ``status = 'recording'`` still has a live writer.

A writer holds a lease on its Run node (``lease_owner``, ``lease_expires_at`` in milliseconds on
the server's clock; docs/decisions/0003-writer-lease.md). A run that is still ``recording`` but
whose lease is absent or expired was left by a writer that crashed or was killed: it is shown as
``interrupted``, with how to resume it.
"""

from __future__ import annotations

from typing import Any

from neo4j import Driver

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
    records, _, _ = driver.execute_query(
        "MATCH (r:Run) RETURN r.name AS name, r.status AS status, r.lease_owner AS owner, "
        "r.lease_expires_at AS expires, timestamp() AS now",
        database_=database, routing_="r",
    )
    return {r["name"]: effective_status(dict(r), r["now"]) for r in records}


def effective_status(run: dict[str, Any], now_ms: int) -> str:
    """``interrupted`` for a ``recording`` run without a live lease, else its status.

    Examples
    --------
    >>> effective_status({"status": "recording", "lease_owner": None}, 0)
    'interrupted'
    >>> effective_status({"status": "recording", "owner": "w", "expires": 10}, 5)
    'recording'
    """
    status = run.get("status") or ""
    if status != "recording":
        return status
    owner = run.get("owner", run.get("lease_owner"))
    expires = run.get("expires", run.get("lease_expires_at"))
    if owner is None or expires is None or int(expires) < int(now_ms):
        return "interrupted"
    return status
