"""One writer per run: a lease on the Run node and the fence every write transaction starts with.

The Run node carries ``lease_owner`` (a writer id) and ``lease_expires_at`` (milliseconds on the
server's clock, ``timestamp()``). A writer acquires the lease when it is free, expired or already
its own; every write transaction of a snapshot starts with :data:`FENCE`, which takes the Run
node's write lock, checks that the lease is still the caller's and renews it. Rival writers
therefore never interleave, and a writer whose lease was taken over fails at its next
transaction, before it writes anything (docs/decisions/0003-writer-lease.md).

Both statements lock the Run node *before* reading the lease (``SET r._lease_lock = true``): a
plain ``WHERE r.lease_owner = $me`` would be evaluated on the last committed value before the lock
is taken, and two writers could both believe they hold the lease.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neo4j import Driver

from sparsetopo.errors import StoreError

__all__ = [
    "ACQUIRE",
    "DEFAULT_TTL",
    "FENCE",
    "RELEASE",
    "Heartbeat",
    "LeaseHeldError",
    "LeaseLostError",
    "LeaseState",
    "acquire",
    "fence",
    "held_message",
    "is_live",
    "lease_state",
    "new_owner_id",
    "release",
]

_log = logging.getLogger(__name__)

#: Default lease time to live in seconds; a crashed writer blocks its run at most this long.
DEFAULT_TTL = 60.0

_LOCK = "MATCH (r:Run {run_id: $id}) SET r._lease_lock = true WITH r REMOVE r._lease_lock "

#: Acquire (or renew) the lease: succeeds when it is free, expired or already ours, or held by
#: ``$gone`` (a writer on this host whose process no longer exists).
ACQUIRE = (
    _LOCK
    + "WITH r, timestamp() AS now, r.lease_owner AS holder, r.lease_expires_at AS expires "
    "WITH r, now, holder, expires, "
    "(holder IS NULL OR holder = $me OR coalesce(expires, 0) <= now OR holder = $gone) AS free "
    "FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END | "
    "SET r.lease_owner = $me, r.lease_expires_at = now + $ttl_ms) "
    "RETURN free, holder, expires - now AS remaining_ms"
)

#: The fence: first statement of every write transaction; it must return ``mine = true``.
FENCE = (
    _LOCK
    + "WITH r, r.lease_owner AS holder, r.lease_expires_at - timestamp() AS remaining_ms "
    "FOREACH (_ IN CASE WHEN holder = $me THEN [1] ELSE [] END | "
    "SET r.lease_expires_at = timestamp() + $ttl_ms) "
    "RETURN holder = $me AS mine, holder, remaining_ms"
)

#: Release: only the holder can release.
RELEASE = (
    _LOCK
    + "WITH r WHERE r.lease_owner = $me "
    "REMOVE r.lease_owner, r.lease_expires_at RETURN count(r) AS released"
)


class LeaseHeldError(StoreError):
    """Another writer holds a live lease on the run."""


class LeaseLostError(StoreError):
    """This writer's lease was taken over (it expired) or its run was deleted."""


def new_owner_id() -> str:
    """A writer id: random hex (unique) plus host and pid (for messages).

    Returns
    -------
    str
        E.g. ``"9f2c41d07be3a815@myhost:4242"``.
    """
    return f"{secrets.token_hex(8)}@{socket.gethostname()}:{os.getpid()}"


def holder_is_gone(holder: str | None) -> bool:
    """True when lease holder ``holder`` (an owner id, ``hex@host:pid``) ran on this host and
    its process no longer exists: its lease can be taken over at once instead of waiting for
    the time to live. Writers on other hosts (or ids without host and pid) keep the TTL.

    Examples
    --------
    >>> holder_is_gone("9f2c41d07be3a815@some-other-host:4242")
    False
    >>> holder_is_gone(new_owner_id())  # this very process
    False
    """
    if not holder or "@" not in holder:
        return False
    where = holder.rsplit("@", 1)[1]
    host, _, pid_text = where.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists (e.g. another user's process)
        return False
    try:  # a killed process not yet reaped by its parent is a zombie: gone as a writer
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _seconds(remaining_ms: Any) -> float:
    return max(0.0, float(remaining_ms or 0) / 1000.0)


def held_message(name: str, holder: str, remaining_ms: Any) -> str:
    """The one-line refusal for a run that another writer holds."""
    return (
        f"run {name!r} is being written by {holder} (lease expires in "
        f"{_seconds(remaining_ms):.0f} s). Wait for that writer to finish; if it crashed, "
        "its lease expires and the run can then be resumed."
    )


def acquire(tx: Any, run_id: int, owner: str, ttl: float, name: str) -> None:
    """Acquire the lease of run ``run_id`` inside transaction ``tx``.

    Parameters
    ----------
    tx
        An open write transaction (managed or explicit).
    run_id, owner, ttl, name
        The run, this writer's id, the lease time to live in seconds, and the run's name (for
        the message).

    Raises
    ------
    LeaseHeldError
        Another writer holds a live lease.
    LeaseLostError
        The run does not exist (any more).
    """
    record = tx.run(ACQUIRE, id=run_id, me=owner, ttl_ms=int(ttl * 1000), gone=None).single()
    if record is None:
        raise LeaseLostError(f"run {name!r} no longer exists (it was deleted)")
    if not record["free"] and holder_is_gone(record["holder"]):
        _log.warning("run %r: taking over the lease of %s, a writer on this host whose process "
                     "is gone", name, record["holder"])
        record = tx.run(ACQUIRE, id=run_id, me=owner, ttl_ms=int(ttl * 1000),
                        gone=record["holder"]).single()
    if record is None:
        raise LeaseLostError(f"run {name!r} no longer exists (it was deleted)")
    if not record["free"]:
        raise LeaseHeldError(held_message(name, record["holder"], record["remaining_ms"]))


def fence(tx: Any, run_id: int, owner: str, ttl: float, name: str) -> None:
    """Check, under the Run node's write lock, that ``owner`` still holds the lease; renew it.

    Raises
    ------
    LeaseLostError
        The lease belongs to someone else (or nobody), or the run was deleted. The caller's
        transaction must then be rolled back, which raising from inside it does.
    """
    record = tx.run(FENCE, id=run_id, me=owner, ttl_ms=int(ttl * 1000)).single()
    if record is None:
        raise LeaseLostError(f"run {name!r} was deleted while this writer was writing it")
    if not record["mine"]:
        holder = record["holder"]
        taken = f"taken over by {holder}" if holder else "released or taken over"
        raise LeaseLostError(
            f"this writer lost its lease on run {name!r} ({taken}): it was idle or cut off "
            "longer than the lease time to live; nothing of its unfinished snapshot is kept"
        )


def release(driver: Driver, run_id: int, owner: str, database: str | None = None) -> bool:
    """Release the lease if ``owner`` holds it; True if it did."""
    records, _, _ = driver.execute_query(RELEASE, id=run_id, me=owner, database_=database)
    return bool(records and records[0]["released"])


@dataclass(frozen=True)
class LeaseState:
    """Who holds a run's lease, as the server's clock sees it.

    ``holder`` is None when nobody holds it; ``live`` is True while an unexpired lease is held;
    a run with status ``recording`` and no live lease was interrupted (its writer crashed).
    """

    holder: str | None
    remaining_s: float
    live: bool


def is_live(holder: str | None, expires_ms: int | None, now_ms: int) -> bool:
    """Whether a lease held by ``holder`` until ``expires_ms`` is live at ``now_ms``.

    The one definition of a live writer (times in milliseconds on the server's clock); ACQUIRE
    treats the complement as free.

    Examples
    --------
    >>> is_live("w1", 2_000, 1_000), is_live("w1", 1_000, 1_000), is_live(None, 2_000, 1_000)
    (True, False, False)
    """
    return holder is not None and expires_ms is not None and int(expires_ms) > int(now_ms)


def lease_state(driver: Driver, run_id: int, database: str | None = None) -> LeaseState | None:
    """The lease of run ``run_id`` (None if the run does not exist).

    Examples
    --------
    >>> state = lease_state(driver, run["run_id"])  # doctest: +SKIP
    >>> state.live                                   # doctest: +SKIP
    False
    """
    records, _, _ = driver.execute_query(
        "MATCH (r:Run {run_id: $id}) RETURN r.lease_owner AS holder, "
        "r.lease_expires_at AS expires, timestamp() AS now",
        id=run_id, database_=database,
    )
    if not records:
        return None
    holder, expires, now = records[0]["holder"], records[0]["expires"], records[0]["now"]
    live = is_live(holder, expires, now)
    return LeaseState(holder=holder, remaining_s=_seconds(expires - now) if live else 0.0,
                      live=live)  # fmt: skip


class Heartbeat:
    """Renews a lease from a daemon thread whenever the writer was idle for a third of the TTL.

    The thread holds only a weak reference to its writer, so a writer that is dropped without
    ``close()`` stops renewing and its lease expires. ``touch()`` records a fenced transaction
    (which renewed the lease already); a renewal that finds the lease lost sets ``lost``.
    """

    def __init__(self, owner_obj: object, renew: Callable[[], None], ttl: float) -> None:
        self._ref = weakref.ref(owner_obj)
        self._renew = renew
        self._interval = max(0.05, ttl / 3.0)
        #: The LeaseLostError of a failed renewal (the writer raises it at its next write).
        self.lost: LeaseLostError | None = None
        self._stop = threading.Event()
        self._last = _monotonic()
        self._thread = threading.Thread(target=self._loop, name="sparsetopo-lease", daemon=True)
        self._thread.start()

    def touch(self) -> None:
        self._last = _monotonic()

    @property
    def thread(self) -> threading.Thread:
        """The renewal thread; a driver it uses may be closed only once it has ended."""
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval / 2):
            if self._ref() is None:
                return
            if _monotonic() - self._last < self._interval:
                continue
            try:
                self._renew()
                self._last = _monotonic()
            except LeaseLostError as exc:
                self.lost = exc
                _log.warning("%s", exc)
                return
            except Exception as exc:  # server away: the next fenced write reports it
                _log.debug("lease renewal failed: %s", exc)


def _monotonic() -> float:
    return time.monotonic()
