"""Where the analysis tasks of ``Store.analyze`` / ``Store.compare`` run.

Two executors share one interface (:class:`Executor`):

* :class:`LocalExecutor` (default): the client reads every snapshot it needs once and hands the
  arrays to a local process pool (``api.pipeline.run_parallel``: fork, ``workers`` processes,
  in-process for a handful of tasks).
* :class:`DaskExecutor`: tasks go to a Dask distributed cluster (``distributed.Client`` or a
  scheduler address). A task carries *references* to snapshots (run name, seq) and the
  connection info, never the edges: each worker thread opens its own driver (reused, closed
  only by that thread or after it ended) and reads the snapshots it needs from the database
  with read transactions, so on a Neo4j cluster the reads spread over the readers. Tasks are pure (read + compute): when Dask
  re-runs one after a lost worker nothing is written twice. The results come back to the caller,
  which writes them once, replacing earlier results (``graphstore.results``), so a repeated or
  interrupted analyze never duplicates anything.

The password travels to the workers inside the pickled task (as it does to any process that
connects); use a TLS scheduler address (``tls://``) when the cluster's network is not trusted.

References
----------
Dask distributed: https://distributed.dask.org (Client.submit, as_completed, LocalCluster).
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from neo4j import Driver

from sparsetopo.api.pipeline import dispatch, edges_of, run_parallel
from sparsetopo.api.plan import (
    Edges,
    PairResult,
    PairTask,
    SnapshotRef,
    SnapshotResult,
    SnapshotTask,
)
from sparsetopo.errors import InputError, MissingExtraError, ServerError
from sparsetopo.graphstore.bulkread import read_snapshots_edges
from sparsetopo.graphstore.connection import open_driver
from sparsetopo.graphstore.liveness import ping
from sparsetopo.graphstore.reader import read_snapshot
from sparsetopo.server.config import ConnectionInfo

__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "OnDone",
    "SnapshotRef",
    "Task",
    "make_executor",
    "remote_task",
]

_log = logging.getLogger(__name__)

#: Names accepted by ``Store.analyze(executor=...)`` and ``sparsetopo analyze --executor``.
EXECUTORS = ("local", "dask")


Task = SnapshotTask | PairTask
Result = SnapshotResult | PairResult
OnDone = Callable[[Result], None]

#: Seconds between two checks of the server while tasks complete, and the bound on one check.
CHECK_EVERY = 2.0
CHECK_TIMEOUT = 6.0

_PR_SET_PDEATHSIG = 1


class ServerWatch:
    """Check, between tasks, that the database still answers.

    An analysis whose server died then fails within seconds (one line) instead of computing
    on and failing at write time.

    Parameters
    ----------
    driver, database
        Where the results will be written.
    every : float
        Minimum seconds between two checks.
    timeout : float
        Bound (seconds) on one check; a server that does not answer by then counts as gone.
    """

    def __init__(self, driver: Driver, database: str | None, every: float = CHECK_EVERY,
                 timeout: float = CHECK_TIMEOUT) -> None:
        self.driver, self.database = driver, database
        self.every, self.timeout = every, timeout
        self._last = time.monotonic()

    def _ping(self, box: list[BaseException | None]) -> None:
        try:
            ping(self.driver, self.database)  # auto-commit: no driver retries
            box[0] = None
        except BaseException as exc:  # noqa: BLE001 - reported by check()
            box[0] = exc

    def check(self, force: bool = False) -> None:
        """Raise ServerError when the database does not answer within ``timeout``.

        Raises
        ------
        ServerError
            One line: what happened and that nothing of this analysis was written.
        """
        now = time.monotonic()
        if self.driver is None or (not force and now - self._last < self.every):
            return  # no database to watch (tasks run without one, e.g. in unit tests)
        self._last = now
        box: list[BaseException | None] = [TimeoutError(f"no answer within {self.timeout:.0f} s")]
        thread = threading.Thread(target=self._ping, args=(box,), daemon=True,
                                  name="sparsetopo-server-check")
        thread.start()
        thread.join(self.timeout)
        exc = box[0]
        if exc is not None:
            text = " ".join(str(getattr(exc, "message", None) or exc).split())[:160]
            raise ServerError(
                f"the database stopped answering during the analysis ({type(exc).__name__}: "
                f"{text}); nothing more was written. Start it (`sparsetopo server start` for the "
                "managed one) and run the same command again: it computes only what is missing"
            ) from exc

    def wrap(self, on_done: OnDone | None) -> OnDone:
        """`on_done` preceded by a (throttled) check of the server."""

        def done(result: Result) -> None:
            self.check()
            if on_done is not None:
                on_done(result)

        return done


def _forked_from_main_thread() -> bool:
    # After fork the forking thread is the child's only thread; it keeps its class, so a
    # worker forked by another thread than the main one is a plain Thread here.
    return type(threading.current_thread()).__name__ == "_MainThread"


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def die_with_parent() -> None:
    """Make this pool worker end when the process that started it ends (SIGTERM, kill -9).

    On Linux the kernel sends SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``; only
    for workers forked by the parent's main thread, since the signal follows the forking
    thread); everywhere a daemon thread also polls the parent pid and exits once the worker
    was re-parented. Called by the worker pool's initializer.
    """
    import multiprocessing

    # the pid recorded before the fork: the parent may already be gone (and this worker
    # re-parented) by the time the initializer runs
    known = multiprocessing.parent_process()
    parent = known.pid if known is not None and known.pid else os.getppid()
    if parent != os.getppid():
        os._exit(1)
    if sys.platform.startswith("linux") and _forked_from_main_thread():
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watch thread below still works
            _log.debug("prctl(PR_SET_PDEATHSIG) is not available")
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="sparsetopo-parent-watch").start()


class Executor(Protocol):
    """Runs analysis tasks whose snapshot arguments are :class:`SnapshotRef` s."""

    name: str

    def run(
        self,
        tasks: Sequence[Task],
        driver: Driver,
        database: str | None,
        info: ConnectionInfo | None,
        on_done: OnDone | None = None,
    ) -> list[Result]:
        """Results of ``pipeline.dispatch(task)`` for every task (any order)."""
        ...

    def close(self) -> None:
        """Release what the executor opened (not a client passed in by the caller)."""
        ...


def _resolve(task: Task, load: Callable[[SnapshotRef], Edges]) -> Task:
    return task.resolve(load)


class LocalExecutor:
    """The client reads the snapshots once; a local process pool computes.

    Parameters
    ----------
    workers
        Worker processes (``pipeline.DEFAULT_WORKERS`` when None).
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers

    def run(
        self,
        tasks: Sequence[Task],
        driver: Driver,
        database: str | None,
        info: ConnectionInfo | None,
        on_done: OnDone | None = None,
    ) -> list[Result]:
        """Read the referenced snapshots here, then run the tasks on the process pool."""
        # one round trip per run for all the snapshots the tasks need
        wanted: dict[str, set[int]] = {}
        for task in tasks:
            for x in task.refs():
                wanted.setdefault(x.run, set()).add(x.seq)
        cache: dict[SnapshotRef, Edges] = {
            SnapshotRef(run, seq): edges_of(layers)
            for run, seqs in wanted.items()
            for seq, layers in read_snapshots_edges(driver, run, sorted(seqs), database).items()
        }

        def load(ref: SnapshotRef) -> Edges:
            if ref not in cache:
                cache[ref] = edges_of(
                    read_snapshot(driver, ref.run, seq=ref.seq, database=database).layers
                )
            return cache[ref]

        resolved = [_resolve(t, load) for t in tasks]
        watch = ServerWatch(driver, database)
        results = run_parallel(dispatch, resolved, self.workers, on_done=watch.wrap(on_done))
        # the last tasks may end within the check's throttle: check once more before the
        # caller writes, so a server that went away fails here, in one line, not at write time
        watch.check(force=True)
        return results

    def close(self) -> None:
        """Release nothing: the pool lives only inside :meth:`run`."""
        return None


# -- the worker side of the Dask executor ---------------------------------------------------
# One driver per worker thread (a Dask worker runs tasks in a thread pool), closed only by a
# thread that cannot race its owner: the owner itself, or anyone once the owner has ended.
# Driver.close() closes connections that are in use, from the closing thread: while the owner
# waits in sendall/recv_into on such a connection (which holds a buffer export of the
# connection's bytearray), the GOODBYE that close() appends resizes that bytearray and raises
# "BufferError: Existing exports of data" (decision 0020, benchmarks/repro_buffererror.py).
_worker_drivers: dict[tuple[str, str, str | None, int], Driver] = {}
_worker_owners: dict[tuple[str, str, str | None, int], threading.Thread] = {}
_worker_lock = threading.Lock()


def _close_worker_drivers() -> None:
    """Close the worker drivers of this thread and of threads that have ended.

    A driver whose thread still runs is left to it: closing it here could close a connection
    in the middle of that thread's read (see above). At interpreter exit its sockets end with
    the process.
    """
    me = threading.current_thread()
    with _worker_lock:
        done = [k for k, owner in _worker_owners.items() if owner is me or not owner.is_alive()]
        closing = [_worker_drivers.pop(k) for k in done]
        for k in done:
            del _worker_owners[k]
    for drv in closing:
        drv.close()


atexit.register(_close_worker_drivers)


def _worker_key(info: ConnectionInfo) -> tuple[str, str, str | None, int]:
    """Return the key of this thread's driver for `info`."""
    return (info.uri, info.user, info.database, threading.get_ident())


def _worker_driver(info: ConnectionInfo) -> Driver:
    key = _worker_key(info)
    with _worker_lock:
        drv = _worker_drivers.get(key)
        if drv is None or _worker_owners[key] is not threading.current_thread():
            # a thread id is reused after its thread ended: that thread's driver is idle
            stale = drv
            drv, _ = open_driver(info)
            _worker_drivers[key] = drv
            _worker_owners[key] = threading.current_thread()
            if stale is not None:
                stale.close()
        return drv


def _discard_worker_driver(info: ConnectionInfo) -> None:
    """Close and forget this thread's driver (its owner is the caller: no race)."""
    key = _worker_key(info)
    with _worker_lock:
        drv = _worker_drivers.pop(key, None)
        _worker_owners.pop(key, None)
    if drv is not None:
        try:
            drv.close()
        except Exception as exc:  # noqa: BLE001 - its connection is already unusable
            _log.debug("closing a worker driver after a BufferError: %r", exc)


def _read_on_worker(info: ConnectionInfo, ref: SnapshotRef) -> Edges:
    """One snapshot, read on this worker thread's driver.

    A sampling profiler can pin the driver's read buffer: Dask's worker profiler keeps a frame
    of the driver's ``BoltSocket.recv_into`` it sampled, whose argument is a slice of that
    buffer, and the driver's next resize of it raises ``BufferError: Existing exports of
    data`` (decision 0020). The pin lasts only while the profiler holds the frame, but the
    connection is left half-read, so the read is repeated once on a new driver.
    """
    def read() -> Edges:
        return edges_of(read_snapshot(_worker_driver(info), ref.run, seq=ref.seq,
                                      database=info.database).layers)

    try:
        return read()
    except BufferError as exc:
        _log.info("read buffer of the worker's driver pinned (%s); reading %s seq %d again on a "
                  "new driver", exc, ref.run, ref.seq)
        _discard_worker_driver(info)
        return read()


def remote_task(info: ConnectionInfo, task: Task) -> Result:
    """Run one task on a Dask worker.

    Reads the referenced snapshots (read transactions on the worker's own driver), then calls
    ``pipeline.dispatch``. Pure: reads and computes, writes nothing.
    """
    cache: dict[SnapshotRef, Edges] = {}

    def load(ref: SnapshotRef) -> Edges:
        if ref not in cache:
            cache[ref] = _read_on_worker(info, ref)
        return cache[ref]

    return dispatch(_resolve(task, load))


class DaskExecutor:
    """Tasks on a Dask distributed cluster; workers read their snapshots from the database.

    Parameters
    ----------
    client
        A ``distributed.Client`` (kept open: the caller owns it).
    scheduler
        A scheduler address such as ``tcp://host:8786`` (a client is opened and closed here).
    timeout
        Seconds to wait for the scheduler.

    Raises
    ------
    MissingExtraError
        When dask.distributed is not installed (``pip install 'sparsetopo[dask]'``).
    InputError
        Neither or both of client and scheduler given.
    ServerError
        The scheduler cannot be reached.

    Examples
    --------
    >>> from distributed import Client                            # doctest: +SKIP
    >>> store.analyze("zhang-prune", executor=Client("tcp://head:8786"))  # doctest: +SKIP
    """

    name = "dask"

    def __init__(self, client: Any = None, scheduler: str | None = None,
                 timeout: float = 10.0) -> None:
        try:
            import distributed
        except ImportError as exc:
            raise MissingExtraError("dask.distributed", "dask", "the Dask executor") from exc
        if (client is None) == (scheduler is None):
            raise InputError(
                "the Dask executor needs a scheduler address (--scheduler tcp://host:8786) or a "
                "distributed.Client, not both"
            )
        self._owns = client is None
        if client is None:
            try:
                client = distributed.Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ServerError(
                    f"cannot reach the Dask scheduler at {scheduler!r} ({type(exc).__name__}: "
                    f"{str(exc)[:160]}); start one with `dask scheduler` and workers with "
                    "`dask worker ADDRESS`, or check the address"
                ) from exc
        self.client = client
        self.payload_bytes = 0  # pickled size of the tasks last sent (references, not edges)

    def run(
        self,
        tasks: Sequence[Task],
        driver: Driver,
        database: str | None,
        info: ConnectionInfo | None,
        on_done: OnDone | None = None,
    ) -> list[Result]:
        """Send snapshot references to the Dask workers, which read and analyse them."""
        from distributed import as_completed

        if info is None:
            raise InputError(
                "the Dask executor hands connection details to its workers: open the store "
                "with sparsetopo.connect() (or Store.connect), not from a bare driver"
            )
        if database is not None and database != info.database:
            info = ConnectionInfo(info.uri, info.user, info.password, database, info.managed)
        if info.managed and not self._local_workers():
            _log.warning(
                "the Dask workers are on other hosts but the store is the managed server on "
                "%s (localhost only); point NEO4J_URI at a server the workers can reach", info.uri
            )
        self.payload_bytes = sum(len(pickle.dumps(t)) for t in tasks)
        _log.info("sending %d tasks (%d bytes) to %s", len(tasks), self.payload_bytes,
                  self.client.scheduler.address)
        futures = [self.client.submit(remote_task, info, t, pure=False) for t in tasks]
        watch = ServerWatch(driver, database)
        done = watch.wrap(on_done)
        results: list[Result] = []
        try:
            for fut in as_completed(futures):
                res = fut.result()
                results.append(res)
                done(res)
        finally:
            for fut in futures:
                fut.release()
        watch.check(force=True)
        return results

    def _local_workers(self) -> bool:
        try:
            workers = self.client.scheduler_info().get("workers", {})
        except Exception:  # noqa: BLE001 - only a hint
            return True
        hosts = {str(w.get("host", "")) for w in workers.values()}
        return hosts <= {"127.0.0.1", "localhost", "::1", ""} or any(
            a.startswith("inproc://") for a in workers
        )

    def close(self) -> None:
        """Close the Dask client if this executor opened it."""
        if self._owns:
            self.client.close()


def make_executor(
    executor: Any = None, workers: int | None = None, scheduler: str | None = None
) -> Executor:
    """Build an executor from what a caller passed.

    ``executor`` is None or "local" (process pool), "dask" (with ``scheduler``), a
    ``distributed.Client``, or an :class:`Executor`.

    Raises
    ------
    InputError
        Unknown executor name, or "dask" without a scheduler address.
    """
    if executor is None or executor == "local":
        if scheduler is not None:
            raise InputError("--scheduler is for --executor dask; add --executor dask")
        return LocalExecutor(workers)
    if executor == "dask":
        if scheduler is None:
            raise InputError(
                "--executor dask needs --scheduler tcp://HOST:8786 (the address `dask scheduler` "
                "prints), or pass a distributed.Client to Store.analyze(executor=...)"
            )
        return DaskExecutor(scheduler=scheduler)
    if isinstance(executor, str):
        raise InputError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    if hasattr(executor, "submit") and hasattr(executor, "scheduler"):
        return DaskExecutor(client=executor)
    if hasattr(executor, "run") and hasattr(executor, "name"):
        return executor  # type: ignore[no-any-return]
    raise InputError(
        f"executor must be 'local', 'dask', a distributed.Client or an Executor, not "
        f"{type(executor).__name__}"
    )
