"""The training-loop hook: snapshot a model's wiring at every checkpoint into Neo4j.

The training thread only copies the weights (``ModelGraph.capture``) and hands them to a bounded
queue; a background thread turns them into edges, diffs them against the previous snapshot and
writes them. If the database is down or goes away, snapshots are spooled to local disk in order
and replayed when it answers again, so training never crashes and no snapshot is lost.

>>> with Recorder(model, run="mlp-set") as rec:           # doctest: +SKIP
...     for epoch in range(20):
...         train_one_epoch(model)
...         rec.snapshot(step=epoch, metrics={"accuracy": acc})
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import shutil
import threading
import time
import warnings
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sparsetopo.errors import MissingExtraError

try:
    import torch
except ImportError as exc:  # torch is the optional [train] extra
    raise MissingExtraError("torch", "train", "the Recorder") from exc
from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from sparsetopo.errors import InputError, ServerError, SparsetopoError, StoreError
from sparsetopo.graphstore.connection import open_driver, resolve_connection
from sparsetopo.graphstore.lease import DEFAULT_TTL, LeaseHeldError, LeaseLostError, new_owner_id
from sparsetopo.graphstore.reader import read_snapshot
from sparsetopo.graphstore.runs import check_metrics, validate_name
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.ingest.extract import ModelGraph
from sparsetopo.ingest.spool import (
    SpoolDir,
    created_meta,
    ended_writers,
    private_dir,
    writer_folder_name,
)
from sparsetopo.server.config import ConnectionInfo, home_dir
from sparsetopo.topology import GraphSnapshot, check_step, check_unit_limits

_STOP = object()
#: Errors that mean "the database is not there right now" (spool and retry), as opposed to
#: errors in the data, which are reported.
_UNAVAILABLE = (ServiceUnavailable, SessionExpired, ServerError, OSError, DriverError)
#: Default bound on the time snapshot() waits for a free queue slot (seconds).
MAX_BLOCK = 0.1
#: close_timeout=None: close() waits CLOSE_FLOOR seconds plus one second per CLOSE_RATE
#: relationships still to write. The engine writes ~75k relationship operations/s on an idle
#: machine (decision 0007) but 3-7k/s on this shared one under load (docs/benchmarks.md), so
#: the rate is set below that: a ResNet-18 snapshot (~700k edges) gets 30 + 350 s. Pending
#: edges over-count what a later snapshot writes (only its changes), which adds headroom.
CLOSE_FLOOR = 30.0
CLOSE_RATE = 2_000.0
#: Bytes per spooled edge (int32 source, int32 target, float32 weight), to estimate what a
#: spool file still holds without reading it.
_SPOOL_EDGE_BYTES = 12


_log = logging.getLogger(__name__)
# Outages and replays are warnings: Python shows them on stderr even when the application has
# not configured logging, so a notebook user sees that snapshots are being spooled.
_say = _log.warning


def _close_when_unused(driver: Driver, users: list[threading.Thread], run: str) -> None:
    """Close `driver` once every thread in `users` (other than the caller) has ended.

    ``Driver.close()`` closes every pooled connection, also one another thread is inside; that
    thread's socket call then races the close into the connection's buffers (the driver's
    BufferError, decision 0020). A write or lease renewal that hangs on a stalled server keeps
    its thread alive: the close is then left to a daemon thread that waits for them, and at
    interpreter exit the sockets end with the process.
    """
    me = threading.current_thread()
    others = [t for t in users if t is not me]

    def close() -> None:
        for thread in others:
            thread.join()
        with contextlib.suppress(Exception):
            driver.close()

    if not any(t.is_alive() for t in others):
        close()
    else:
        threading.Thread(target=close, name=f"sparsetopo-driver-close-{run}", daemon=True).start()


def _describe(exc: BaseException) -> str:
    """``OSError [Errno 27] File too large`` and the like, on one line."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]


def _spool_index(path: Path) -> int:
    """Capture index of a spool file (its name starts with it)."""
    return int(path.name.split("-", 1)[0])


class SpoolFullError(SparsetopoError):
    """A snapshot could neither be written to the database nor spooled to disk."""


class Recorder:
    """Snapshot `model` into run `run` at every call of :meth:`snapshot`.

    Three threads share the work. The training thread only copies the weights and queues them
    (:meth:`snapshot`). A staging thread turns them into edges and hands them to the writing
    thread in memory while the database keeps up, or spools them to disk (in capture order)
    while it is down or slow. The writing thread writes memory first, then replays the disk
    spool, in the background. Writes fail fast (no driver retries): the spool is the retry.

    Parameters
    ----------
    model : torch.nn.Module
        Its Linear/Conv/RNN/GRU/LSTM weights become layers (see
        :class:`sparsetopo.ingest.extract.ModelGraph`; `mapping` for anything else).
    run : str
        Run name (unique in the database).
    layers : list of str, optional
        Record only the layers whose name or parameter name matches one of these globs
        (``["bert.encoder.layer.0.*"]``), for models too large to record whole. A glob that
        matches nothing is an InputError listing valid names.
    example_input : tensor, tuple or dict, optional
        An input for tracing with torch.export when torch.fx cannot trace the model
        (built for Hugging Face models from their config when not given).
    task, strategy, model_name, config
        Stored on the Run node.
    replace : bool
        Delete an existing run of that name first (otherwise new steps are appended to it and
        must be larger than its last step). Spools of earlier Recorders of that run name are
        deleted too: they belong to the replaced run.
    queue_size : int
        Snapshots kept in memory between the threads.
    spool_dir : str or Path, optional
        Folder of this run's spools (default ``$SPARSETOPO_HOME/spool/<hash of run>``); each
        Recorder spools into its own sub-folder named by its writer id.
    connection : ConnectionInfo, optional
        Where to write (default: NEO4J_* variables, else the managed local server).
    retry_interval : float
        Seconds between reconnection attempts while the database is down.
    max_block : float
        Bound (seconds) on the time :meth:`snapshot` waits for a queue slot, on top of copying
        the weights. When the database is down snapshots go to the disk spool, so waiting only
        happens if the disk cannot keep up; if the spool disk is full, :meth:`snapshot` raises
        :class:`SpoolFullError` after this bound instead of blocking.
    close_timeout : float, optional
        Bound (seconds) on :meth:`close`; what is not written by then stays spooled. None
        (default): derived when closing from what is still to write, ``CLOSE_FLOOR`` (30 s)
        plus one second per ``CLOSE_RATE`` (2,000) pending relationships (edges of the
        snapshots queued, in memory and spooled), see :meth:`pending_edges`.
    lease_ttl : float
        Time to live of the run's writer lease (docs/decisions/0003-writer-lease.md): one
        writer per run; if this Recorder dies, the run is free again after this long.

    Examples
    --------
    >>> with Recorder(model, run="mlp-set") as rec:           # doctest: +SKIP
    ...     rec.snapshot(step=0, metrics={"loss": 2.3})
    """

    def __init__(
        self,
        model: torch.nn.Module,
        run: str,
        task: str | None = None,
        strategy: str | None = None,
        model_name: str | None = None,
        config: Mapping[str, Any] | None = None,
        *,
        mapping: dict | None = None,
        example_input: Any = None,
        layers: list[str] | str | None = None,
        replace: bool = False,
        allow_nonfinite: bool = False,
        queue_size: int = 4,
        spool_dir: str | Path | None = None,
        connection: ConnectionInfo | None = None,
        retry_interval: float = 2.0,
        database: str | None = None,
        max_block: float = MAX_BLOCK,
        close_timeout: float | None = None,
        lease_ttl: float = DEFAULT_TTL,
    ) -> None:
        self.run = validate_name(run)
        self.graph = ModelGraph(model, mapping=mapping, example_input=example_input,
                                layers=layers)
        check_unit_limits(self.graph.architecture, f"model of run {self.run!r}")
        self.allow_nonfinite = allow_nonfinite
        self.meta = {"task": task, "strategy": strategy, "model": model_name or type(model).__name__,
                     "config": dict(config or {})}
        self.replace = replace
        self.retry_interval = float(retry_interval)
        self.max_block = float(max_block)
        self.close_timeout = None if close_timeout is None else float(close_timeout)
        self.database = database
        self.lease_ttl = float(lease_ttl)
        self.writer_id = new_owner_id()  # also the lease owner: reconnects keep the lease
        digest = hashlib.sha1(self.run.encode()).hexdigest()[:12]
        self.spool_root = Path(spool_dir) if spool_dir else home_dir() / "spool" / digest
        try:
            if not spool_dir:
                private_dir(home_dir() / "spool")
            if not self.spool_root.exists():
                private_dir(self.spool_root)  # owner-only, like everything below it
            if replace:
                self._clear_ended_spools()
            self.spool = SpoolDir(self.spool_root / writer_folder_name(self.writer_id),
                                  created_meta(self.run, self.writer_id, replace))
        except OSError as exc:
            raise InputError(
                f"spool_dir {str(self.spool_root)!r}: cannot create this Recorder's spool folder "
                f"there ({exc.strerror or exc}); pass a folder you can write as spool_dir="
            ) from None
        self.spool_dir = self.spool.path
        self._connection = connection
        self._may_start = True
        self._captured: queue.Queue[Any] = queue.Queue(maxsize=max(1, queue_size))
        self._max_pending = max(1, queue_size)
        self._cond = threading.Condition()
        self._pending: deque[tuple[int, GraphSnapshot]] = deque()
        self._on_disk = 0
        self._db_ok = False
        self._closing = False
        self._staged = 0  # captured items the staging thread has handled
        self._index = 0  # capture index of the next snapshot
        self._adopted: list[SpoolDir] = []
        self._adoption_done = False
        self._spool_full: BaseException | None = None
        self._unrecorded: list[int] = []  # acknowledged steps that could not be kept
        self._driver: Driver | None = None
        self._writer: RunWriter | None = None
        self._errors: list[BaseException] = []
        self._spooled_note = False
        self._last_step: int | None = None
        self._closed = False
        self.written: list[int] = []  # steps written to the database, in order
        self.rejected: list[Path] = []  # spooled snapshots not replayed (see rejected/)
        self.blocking_seconds: list[float] = []  # time snapshot() held the training loop
        # Connect now so that a wrong run (e.g. other architecture) fails before training starts.
        try:
            self._connect()
        except _UNAVAILABLE as exc:
            self._note_spooling(exc)
        except BaseException:
            self.spool.release()
            raise
        if self._writer is not None and self._writer.last_step is not None:
            self._last_step = max(self._writer.last_step, self._last_step or 0)
        self._stager = threading.Thread(target=self._stage_loop, name=f"sparsetopo-stage-{self.run}",
                                        daemon=True)
        self._db_thread = threading.Thread(target=self._db_loop, name=f"sparsetopo-write-{self.run}",
                                           daemon=True)
        self._stager.start()
        self._db_thread.start()

    # -- training-thread side -----------------------------------------------------------------
    def snapshot(
        self, step: int, epoch: int | None = None, metrics: Mapping[str, Any] | None = None
    ) -> None:
        """Capture the model's current wiring as snapshot `step`.

        Blocks to copy the weights and at most `max_block` seconds more for a queue slot
        while the disk spool keeps up; never waits for the database.

        Raises
        ------
        InputError
            `step` is not larger than the previous one, or a metric is unusable.
        SpoolFullError
            The database is unreachable and the spool disk is full: this snapshot was not
            recorded (earlier ones are safe).
        """
        if self._closed:
            raise SparsetopoError("this Recorder is closed; create a new one")
        self._raise_pending()
        step = check_step(step, "snapshot step")
        if self._last_step is not None and step <= self._last_step:
            raise InputError(
                f"snapshot step {step} is not larger than the previous step {self._last_step}; "
                "steps must increase within a run"
            )
        start = time.perf_counter()
        with torch.no_grad():
            captured = self.graph.capture()
        # Checked here, in the caller's thread, so a bad name fails at once instead of later.
        clean_metrics = check_metrics({k: float(v) if isinstance(v, torch.Tensor) else v
                                       for k, v in (metrics or {}).items()})
        epoch = None if epoch is None else check_step(epoch, "epoch")
        item = (self._index, step, epoch, clean_metrics, captured)
        try:
            self._captured.put(item, timeout=self.max_block)
        except queue.Full:
            while True:
                if self._spool_full is not None:
                    self.blocking_seconds.append(time.perf_counter() - start)
                    raise SpoolFullError(
                        f"snapshot step {step} was not recorded: the database is unreachable and "
                        f"the spool folder {self.spool.path} cannot be written "
                        f"({_describe(self._spool_full)}). Free disk space there or fix the "
                        "folder; snapshots taken before are kept in memory or on disk."
                    ) from None
                if not self._stager.is_alive():
                    raise SparsetopoError(
                        f"snapshot step {step} was not recorded: the Recorder's staging thread "
                        f"stopped ({self._error}); close() names what was not recorded"
                    ) from None
                try:
                    self._captured.put(item, timeout=0.5)  # the disk is slow: backpressure
                    break
                except queue.Full:
                    continue
        self._index += 1
        self._last_step = step
        self.blocking_seconds.append(time.perf_counter() - start)

    @property
    def last_step(self) -> int | None:
        """The last step handed to :meth:`snapshot` (written or still queued)."""
        return self._last_step

    def _settled(self, target: int) -> bool:
        replay_left = self._on_disk > 0 or any(s.files() for s in self._adopted)
        return (self._staged >= target and not self._pending
                and (not replay_left or not self._db_ok))

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every snapshot so far is written, or spooled while the database is down.

        Parameters
        ----------
        timeout : float, optional
            Give up after this many seconds (the snapshots stay queued or spooled and are
            still written later).

        Raises
        ------
        SparsetopoError
            The timeout passed first.
        """
        target = self._index
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._settled(target):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise SparsetopoError(
                        f"the recorder did not drain within {timeout} s "
                        f"({target - self._staged} snapshot(s) being prepared, "
                        f"{len(self._pending)} in memory, {self._on_disk} spooled in "
                        f"{self.spool.path}); they are kept and written when the database "
                        "answers"
                    )
                self._cond.wait(0.05 if remaining is None else min(remaining, 0.05))
        self._raise_pending()

    def pending_edges(self) -> int:
        """Relationships still to write (an upper bound on the first write of each snapshot):
        nonzeros of the captured, not yet staged weights, edges of the snapshots in memory,
        and the edges the spool files hold (estimated from their size)."""
        with self._captured.mutex:
            captured = [item for item in self._captured.queue if item is not _STOP]
        total = 0
        for item in captured:
            total += sum(int(np.count_nonzero(m)) for m in item[4].values())
        with self._cond:
            total += sum(snap.n_edges for _, snap in self._pending)
        files = self.spool.files()
        for adopted in self._adopted:
            files += adopted.files()
        for path in files:
            with contextlib.suppress(OSError):
                total += path.stat().st_size // _SPOOL_EDGE_BYTES
        return total

    def effective_close_timeout(self) -> float:
        """``close_timeout``, or when None ``CLOSE_FLOOR + pending_edges() / CLOSE_RATE``."""
        if self.close_timeout is not None:
            return self.close_timeout
        return CLOSE_FLOOR + self.pending_edges() / CLOSE_RATE

    def close(self, status: str = "complete") -> None:
        """Flush (at most `close_timeout` s), stop the threads and mark the run finished; what
        could not be written stays spooled for the next Recorder of this run."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + self.effective_close_timeout()
        lost: list[int] = []
        with contextlib.suppress(queue.Full):
            self._captured.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
        self._stager.join(max(0.0, deadline - time.monotonic()))
        if self._stager.is_alive():  # the spool cannot be written and the database is down
            with self._cond:
                self._closing = True
                self._cond.notify_all()
            while True:
                try:
                    item = self._captured.get_nowait()
                except queue.Empty:
                    break
                if item is not _STOP:
                    lost.append(item[1])
            with contextlib.suppress(queue.Full):
                self._captured.put_nowait(_STOP)
            # the snapshot the staging thread holds is named by it in _unrecorded
            self._stager.join(min(1.0, max(0.1, deadline - time.monotonic())))
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._db_thread.join(max(0.0, deadline - time.monotonic()))
        if self._db_thread.is_alive() or self._pending:
            # A write hangs (e.g. a stalled connection) or the database went away: keep what is
            # in memory on disk. Should a hung write still commit, the copy is recognised as
            # identical and skipped.
            self._spill()
        with self._cond:
            lost += self._unrecorded + [snap.step for _, snap in self._pending]
        leftover = self.spool.files()
        for adopted in self._adopted:
            leftover += adopted.files()
        writer, driver = self._writer, self._driver
        if writer is not None:
            # bounded like everything in close(): a stalled server must not hold it longer
            def finish() -> None:
                if not leftover and not lost and not self._pending:
                    with contextlib.suppress(*_UNAVAILABLE, StoreError):
                        writer.finish(status)
                with contextlib.suppress(Exception):
                    writer.close()  # releases the lease if finish() did not
                if driver is not None:
                    _close_when_unused(driver, [self._db_thread, *writer.background_threads],
                                       self.run)

            ender = threading.Thread(target=finish, name=f"sparsetopo-close-{self.run}",
                                     daemon=True)
            ender.start()
            ender.join(max(0.5, deadline - time.monotonic()))
            if ender.is_alive():
                _say(f"run {self.run!r}: the database did not answer while closing; the run "
                     "stays 'recording' until its lease expires")
        elif leftover:
            _say(
                f"{len(leftover)} snapshot(s) of run {self.run!r} are still spooled in "
                f"{self.spool_root}: the database was unreachable. Start it and create a "
                f"Recorder for run {self.run!r} again (same spool_dir): it replays them first."
            )
        self.spool.release()
        for adopted in self._adopted:
            adopted.release()
        if writer is None and driver is not None:
            _close_when_unused(driver, [self._db_thread], self.run)
        if lost:
            why = _describe(self._spool_full) if self._spool_full is not None else "no space"
            raise SpoolFullError(
                f"snapshot step(s) {sorted(set(lost))} were not recorded: the database was "
                f"unreachable and the spool folder {self.spool.path} could not be written "
                f"({why}). Free disk space there or fix the folder."
            )
        self._raise_pending()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close("failed" if exc_type is not None else "complete")

    @property
    def _error(self) -> BaseException | None:
        return self._errors[0] if self._errors else None

    @_error.setter
    def _error(self, exc: BaseException | None) -> None:
        if exc is not None:
            self._errors.append(exc)

    def _raise_pending(self) -> None:
        """Raise what the background threads found (all of it, in one error)."""
        if not self._errors:
            return
        errors, self._errors = self._errors, []
        if len(errors) == 1:
            raise errors[0]
        first = errors[0]
        text = f"{len(errors)} problems: " + " | ".join(str(e) for e in errors)
        if isinstance(first, SparsetopoError):
            raise type(first)(text) from first
        raise SparsetopoError(text) from first

    # -- spool bookkeeping ---------------------------------------------------------------------
    def _clear_ended_spools(self) -> None:
        """replace=True: spools of ended Recorders of this run name belong to the old run."""
        for old in ended_writers(self.spool_root):
            files = old.files()
            if files:
                _say(f"replace=True: deleting {len(files)} spooled snapshot(s) of the replaced "
                     f"run {self.run!r} in {old.path}")
            shutil.rmtree(old.path, ignore_errors=True)
            old.release(remove_if_empty=False)

    def _adopt_ended_spools(self, run_id: int, created: bool) -> None:
        """Spools of ended Recorders of this very run (same run id) are replayed first, and so
        are those of Recorders that never reached the database (no run id yet) and meant to
        append to this run name, or to create it (`created`: this Recorder just created the
        run); others are left alone and reported."""
        for old in ended_writers(self.spool_root, exclude=self.spool.path):
            never = old.run_id is None and old.meta.get("run") == self.run
            if never and (created or not old.meta.get("replace")):
                with contextlib.suppress(OSError):
                    old.set_run_id(run_id)  # it belongs to this run from now on
            if not old.files():
                old.release()
            elif old.run_id == run_id:
                _say(f"replaying {len(old.files())} snapshot(s) spooled by an earlier Recorder of "
                     f"run {self.run!r} ({old.path})")
                self._adopted.append(old)
                steps = [int(f.name.rsplit("-step", 1)[1][:-4]) for f in old.files()]
                if self._last_step is None or max(steps) > self._last_step:
                    self._last_step = max(steps)  # new snapshots must come after these
            else:
                why = ("never reached the database, so it may belong to a run that was replaced"
                       if old.run_id is None else f"belongs to run id {old.run_id}, not {run_id}")
                _say(f"not replaying {len(old.files())} spooled snapshot(s) in {old.path}: that "
                     f"spool {why}. Delete the folder if it is not needed.")
                old.release(remove_if_empty=False)

    # -- connecting -----------------------------------------------------------------------------
    def _connect(self) -> None:
        if self._writer is not None:
            return
        if self._connection is None:
            # Only the first attempt may start the managed server; a server stopped while we
            # record stays stopped until someone starts it, and we spool meanwhile.
            first, self._may_start = self._may_start, False
            self._connection = resolve_connection(start=first, log=_say if first else None)
        driver, _ = open_driver(self._connection, fail_fast=True)
        try:
            writer = RunWriter(driver, self.run, self.graph.architecture, self.meta,
                               database=self.database, replace=self.replace,
                               lease_ttl=self.lease_ttl, owner=self.writer_id, retry=False)
        except BaseException:
            driver.close()
            raise
        self.replace = False  # replace once, not again on every reconnect
        if self.spool.run_id is not None and self.spool.run_id != writer.run_id:
            driver.close()
            self._closing = True
            raise StoreError(
                f"run {self.run!r} was replaced or deleted by someone else while this Recorder "
                f"wrote it (run id {self.spool.run_id} is gone); its spooled snapshots stay in "
                f"{self.spool.path} and are not written into the new run"
            )
        self.spool.set_run_id(writer.run_id)
        if not self._adoption_done:
            self._adoption_done = True
            self._adopt_ended_spools(writer.run_id, bool(getattr(writer, "created", False)))
        with self._cond:
            self._driver, self._writer = driver, writer
            self._db_ok = True
            self._cond.notify_all()

    def _note_spooling(self, exc: BaseException) -> None:
        if not self._spooled_note:
            _say(
                f"the database is unreachable ({type(exc).__name__}: {str(exc)[:200]}); "
                f"spooling snapshots to {self.spool.path} and replaying them when it is back"
            )
            self._spooled_note = True
        driver, writer = self._driver, self._writer
        users: list[threading.Thread] = []
        if writer is not None:
            heartbeat = getattr(writer, "_heartbeat", None)
            if heartbeat is not None:
                heartbeat.stop()  # keep the lease (same owner on reconnect), stop renewing
            users = writer.background_threads
        with self._cond:
            self._driver, self._writer = None, None
            self._db_ok = False
            self._cond.notify_all()
        if driver is not None:
            _close_when_unused(driver, users, self.run)

    # -- staging thread ------------------------------------------------------------------------
    def _to_snapshot(self, step: int, epoch: int | None, metrics: dict, captured: dict) -> GraphSnapshot:
        layers, dropped = self.graph.edges(captured, self.allow_nonfinite)
        if dropped:
            metrics = {**metrics, "nonfinite_dropped": float(dropped)}
            warnings.warn(f"step {step}: dropped {dropped} NaN/Inf weight(s)", stacklevel=1)
        return GraphSnapshot(layers=layers, step=step, epoch=epoch, metrics=metrics)

    def _stage_loop(self) -> None:
        while True:
            item = self._captured.get()
            if item is _STOP:
                return
            index, step, epoch, metrics, captured = item
            try:
                snap = self._to_snapshot(step, epoch, metrics, captured)
            except Exception as exc:  # bad data: report at the next call, keep going
                self._error = exc
                with self._cond:
                    self._staged = index + 1
                    self._cond.notify_all()
                continue
            with self._cond:
                if self._db_ok and self._on_disk == 0 and len(self._pending) < self._max_pending:
                    self._pending.append((index, snap))
                    self._staged = index + 1
                    self._cond.notify_all()
                    continue
            try:
                kept = self._spool_or_wait(index, snap)
            except BaseException as exc:  # never a silent death of this thread
                self._error = exc
                kept = False
            if not kept:
                with self._cond:
                    self._unrecorded.append(step)
                    self._staged = index + 1
                    self._cond.notify_all()

    def _spool_or_wait(self, index: int, snap: GraphSnapshot) -> bool:
        """Spool `snap`; while the spool cannot be written (any OSError: disk full, quota,
        file too large, I/O error, read-only or no permission...), keep it in memory if the
        database is up, else retry (snapshot() meanwhile refuses new snapshots after its
        bound). False when close() gave up on it."""
        while True:
            try:
                self.spool.write(index, snap)
            except Exception as exc:
                if self._spool_full is None:
                    _say(f"cannot spool snapshot step {snap.step} to {self.spool.path}: "
                         f"{_describe(exc)}")
                self._spool_full = exc
                with self._cond:
                    if self._db_ok and self._on_disk == 0:
                        self._pending.append((index, snap))
                        self._staged = index + 1
                        self._cond.notify_all()
                        return True
                    if self._closing:
                        return False
                    self._cond.wait(self.retry_interval)
                continue
            self._spool_full = None
            with self._cond:
                self._on_disk += 1
                self._staged = index + 1
                self._cond.notify_all()
            return True

    # -- writing thread ------------------------------------------------------------------------
    def _has_work(self) -> bool:
        return bool(self._pending) or self._on_disk > 0 or any(s.files() for s in self._adopted)

    def _db_loop(self) -> None:
        while True:
            with self._cond:
                if not self._has_work():
                    if self._closing and not self._stager.is_alive():
                        return
                    self._cond.wait(self.retry_interval)
                    continue
            if self._writer is None:
                try:
                    self._connect()
                except Exception as exc:
                    if isinstance(exc, LeaseHeldError):
                        # another writer holds the run (e.g. a crashed one whose lease has not
                        # expired yet): keep spooling and try again
                        self._note_spooling(exc)
                    elif not isinstance(exc, _UNAVAILABLE) and not (
                        isinstance(exc, Neo4jError) and exc.is_retryable()
                    ):
                        self._error = exc  # e.g. the run was replaced: reported, spool kept
                    else:
                        self._note_spooling(exc)
                    self._spill()
                    if self._closing or (isinstance(exc, StoreError)
                                         and not isinstance(exc, LeaseHeldError)):
                        return
                    with self._cond:
                        self._cond.wait(self.retry_interval)
                    continue
            try:
                self._write_next()
            except (*_UNAVAILABLE, LeaseLostError) as exc:
                self._note_spooling(exc)
                self._spill()
            except Neo4jError as exc:
                if not exc.is_retryable():
                    self._error = exc
                    continue
                self._note_spooling(exc)
                self._spill()

    def _spill(self) -> None:
        """Move the in-memory snapshots to the disk spool (they keep their capture order)."""
        with self._cond:
            self._db_ok = False
            items = list(self._pending)
        moved = 0
        for index, snap in items:
            try:
                self.spool.write(index, snap)
            except Exception as exc:  # noqa: BLE001 - any spool failure: kept in memory
                self._spool_full = exc
                break
            moved += 1
        with self._cond:
            for _ in range(moved):
                if self._pending:
                    self._pending.popleft()
            self._on_disk += moved
            self._cond.notify_all()

    def _write_next(self) -> None:
        """Write one snapshot: an adopted spool's, else the oldest in memory, else our own
        spool's oldest."""
        for adopted in self._adopted:
            files = adopted.files()
            if files:
                self._write_one(SpoolDir.load(files[0]), files[0], adopted)
                return
        with self._cond:
            item = self._pending[0] if self._pending else None
        files = self.spool.files()
        if item is not None and files and _spool_index(files[0]) < item[0]:
            item = None  # an older snapshot waits on disk (e.g. a spill cut short by a full disk)
        if item is not None:
            self._write_one(item[1], None, None, item[0])
            with self._cond:
                if self._pending and self._pending[0] is item:
                    self._pending.popleft()
                self._cond.notify_all()
            return
        if files:
            self._write_one(SpoolDir.load(files[0]), files[0], self.spool)
            with self._cond:
                self._on_disk = max(0, self._on_disk - 1)
                self._cond.notify_all()
            if not self.spool.files() and self._spooled_note:
                _say(f"the database is back; replayed spooled snapshots of run {self.run!r}")
                self._spooled_note = False
        else:
            with self._cond:
                self._on_disk = 0

    def _write_one(
        self, snap: GraphSnapshot, path: Path | None, spool: SpoolDir | None, index: int = 0
    ) -> None:
        writer = self._writer
        assert writer is not None
        last = writer.last_step
        if last is not None and snap.step <= last:
            if self._stored_equals(snap):
                # written before a crash (or a hung write that committed after all)
                if path is not None:
                    path.unlink()
                return
            reason = (f"step {snap.step} is not after the run's last stored step {last} and "
                      "differs from what is stored there")
            if path is None or spool is None:
                spool, path = self.spool, self.spool.write(index, snap)
            target = spool.reject(path, reason)
            self.rejected.append(target)
            message = (f"spooled snapshot step {snap.step} of run {self.run!r} was not written: "
                       f"{reason}. It is kept in {target}.")
            _say(message)
            self._error = StoreError(message)
            return
        try:
            writer.write(snap, source="recorder")
        except (InputError, StoreError) as exc:
            # bad data: never retried; kept on disk when it came from there
            if path is not None and spool is not None:
                self.rejected.append(spool.reject(path, str(exc)))
            self._error = exc
            return
        self.written.append(snap.step)
        if path is not None:
            path.unlink()

    def _stored_equals(self, snap: GraphSnapshot) -> bool:
        assert self._driver is not None
        try:
            stored = read_snapshot(self._driver, self.run, step=snap.step, database=self.database)
        except StoreError:
            return False
        for name, edges in snap.layers.items():
            other = stored.layers.get(name)
            if other is None:
                if len(edges):
                    return False
                continue
            if not (np.array_equal(edges.src, other.src) and np.array_equal(edges.dst, other.dst)
                    and np.array_equal(edges.w, other.w)):
                return False
        return True
