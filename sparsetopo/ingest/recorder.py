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
import json
import logging
import queue
import threading
import time
import warnings
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

from sparsetopo.errors import InputError, ServerError, SparsetopoError
from sparsetopo.graphstore.connection import open_driver, resolve_connection
from sparsetopo.graphstore.lease import new_owner_id
from sparsetopo.graphstore.runs import check_metrics, validate_name
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.ingest.extract import ModelGraph
from sparsetopo.server.config import ConnectionInfo, home_dir
from sparsetopo.topology import GraphSnapshot, LayerEdges

_STOP = object()
#: Errors that mean "the database is not there right now" (spool and retry), as opposed to
#: errors in the data, which are reported.
_UNAVAILABLE = (ServiceUnavailable, SessionExpired, ServerError, OSError, DriverError)


_log = logging.getLogger(__name__)
# Outages and replays are warnings: Python shows them on stderr even when the application has
# not configured logging, so a notebook user sees that snapshots are being spooled.
_say = _log.warning


class Recorder:
    """Snapshot `model` into run `run` at every call of :meth:`snapshot`.

    Parameters
    ----------
    model: the torch model; its Linear/Conv/RNN/GRU/LSTM weights become layers (see
        :class:`sparsetopo.ingest.extract.ModelGraph`; `mapping` for anything else).
    run: run name (unique in the database).
    task, strategy, model_name, config: stored on the Run node.
    replace: delete an existing run of that name first (otherwise new steps are appended to it
        and must be larger than its last step).
    queue_size: snapshots waiting for the writer before snapshot() blocks (backpressure).
    spool_dir: where snapshots wait while the database is unreachable
        (default: $SPARSETOPO_HOME/spool/<run>).
    connection: where to write (default: NEO4J_* variables, else the managed local server).
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
        example_input: torch.Tensor | None = None,
        replace: bool = False,
        allow_nonfinite: bool = False,
        queue_size: int = 4,
        spool_dir: str | Path | None = None,
        connection: ConnectionInfo | None = None,
        retry_interval: float = 2.0,
        database: str | None = None,
    ) -> None:
        self.run = validate_name(run)
        self.graph = ModelGraph(model, mapping=mapping, example_input=example_input)
        self.allow_nonfinite = allow_nonfinite
        self.meta = {"task": task, "strategy": strategy, "model": model_name or type(model).__name__,
                     "config": dict(config or {})}
        self.replace = replace
        self.retry_interval = retry_interval
        self.database = database
        digest = hashlib.sha1(self.run.encode()).hexdigest()[:12]
        self.spool_dir = Path(spool_dir) if spool_dir else home_dir() / "spool" / digest
        self._connection = connection
        self._may_start = True
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, queue_size))
        self._driver: Driver | None = None
        self._writer: RunWriter | None = None
        self._owner = new_owner_id()
        self._error: BaseException | None = None
        self._spooled_note = False
        self._counter = 0
        self._last_step: int | None = None
        self._closed = False
        self.written: list[int] = []  # steps written to the database, in order
        self.blocking_seconds: list[float] = []  # time snapshot() held the training loop
        # Connect now so that a wrong run (e.g. other architecture) fails before training starts.
        try:
            self._connect()
        except _UNAVAILABLE as exc:
            self._note_spooling(exc)
        self._counter = self._next_spool_index()
        self._thread = threading.Thread(target=self._loop, name=f"sparsetopo-{self.run}", daemon=True)
        self._thread.start()

    # -- training-thread side -----------------------------------------------------------------
    def snapshot(
        self, step: int, epoch: int | None = None, metrics: Mapping[str, Any] | None = None
    ) -> None:
        """Capture the model's current wiring as snapshot `step` (blocks only to copy weights,
        or when `queue_size` snapshots are already waiting)."""
        if self._closed:
            raise SparsetopoError("this Recorder is closed; create a new one")
        self._raise_pending()
        step = int(step)
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
        self._queue.put((step, epoch, clean_metrics, captured))
        self._last_step = step
        self.blocking_seconds.append(time.perf_counter() - start)

    @property
    def last_step(self) -> int | None:
        """The last step handed to :meth:`snapshot` (written or still queued)."""
        return self._last_step

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every snapshot so far is written (or spooled, if the database is down)."""
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout):
            raise SparsetopoError(f"the recorder did not drain within {timeout} s")
        self._raise_pending()

    def close(self, status: str = "complete") -> None:
        """Flush, stop the writer thread and mark the run finished."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
        if self._writer is not None and not self._spool_files():
            with contextlib.suppress(*_UNAVAILABLE):
                self._writer.finish(status)
        elif self._spool_files():
            _say(
                f"{len(self._spool_files())} snapshot(s) of run {self.run!r} are still spooled "
                f"in {self.spool_dir}: the database was unreachable. Start it and create a "
                f"Recorder for run {self.run!r} again (same spool_dir): it replays them first."
            )
        if self._driver is not None:
            self._driver.close()
        self._raise_pending()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close("failed" if exc_type is not None else "complete")

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    # -- writer-thread side -------------------------------------------------------------------
    def _connect(self) -> None:
        if self._writer is not None:
            return
        if self._connection is None:
            # Only the first attempt may start the managed server; a server stopped while we
            # record stays stopped until someone starts it, and we spool meanwhile.
            first, self._may_start = self._may_start, False
            self._connection = resolve_connection(start=first, log=_say if first else None)
        driver, _ = open_driver(self._connection)
        try:
            # The same writer id on every reconnect: the lease taken before an outage is ours.
            self._writer = RunWriter(driver, self.run, self.graph.architecture, self.meta,
                                     database=self.database, replace=self.replace,
                                     owner=self._owner)
        except BaseException:
            driver.close()
            raise
        self.replace = False  # replace once, not again on every reconnect
        self._driver = driver

    def _note_spooling(self, exc: BaseException) -> None:
        if not self._spooled_note:
            _say(
                f"the database is unreachable ({type(exc).__name__}: {str(exc)[:200]}); "
                f"spooling snapshots to {self.spool_dir} and replaying them when it is back"
            )
            self._spooled_note = True
        if self._driver is not None:
            self._driver.close()
        self._driver, self._writer = None, None

    def _loop(self) -> None:
        next_retry = 0.0
        while True:
            try:
                item = self._queue.get(timeout=self.retry_interval)
            except queue.Empty:
                item = None
            if item is _STOP:
                self._drain_spool(final=True)
                return
            if isinstance(item, threading.Event):
                self._drain_spool(final=True)
                item.set()
                continue
            if item is not None:
                try:
                    snap = self._to_snapshot(*item)
                    if not self._write_direct(snap):
                        self._spool(snap)
                except Exception as exc:  # bad data: report at the next call, keep the loop alive
                    self._error = exc
                    continue
            if time.monotonic() >= next_retry and not self._drain_spool(final=False):
                next_retry = time.monotonic() + self.retry_interval

    def _to_snapshot(self, step: int, epoch: int | None, metrics: dict, captured: dict) -> GraphSnapshot:
        layers, dropped = self.graph.edges(captured, self.allow_nonfinite)
        if dropped:
            metrics = {**metrics, "nonfinite_dropped": float(dropped)}
            warnings.warn(f"step {step}: dropped {dropped} NaN/Inf weight(s)", stacklevel=1)
        return GraphSnapshot(layers=layers, step=step, epoch=epoch, metrics=metrics)

    def _write_direct(self, snap: GraphSnapshot) -> bool:
        """Write straight to the database when it is up and nothing waits in the spool (order
        is kept: once anything is spooled, later snapshots queue behind it on disk)."""
        if self._writer is None or self._spool_files():
            return False
        try:
            self._writer.write(snap, source="recorder")
        except _UNAVAILABLE as exc:
            self._note_spooling(exc)
            return False
        except Neo4jError as exc:
            if not exc.is_retryable():
                raise
            self._note_spooling(exc)
            return False
        self.written.append(snap.step)
        return True

    # While the database is unreachable the spool is the queue: files are named in capture
    # order, so replay order is file order.
    def _spool_files(self) -> list[Path]:
        if not self.spool_dir.exists():
            return []
        return sorted(self.spool_dir.glob("*.npz"))

    def _next_spool_index(self) -> int:
        files = self._spool_files()
        return int(files[-1].name.split("-")[0]) + 1 if files else 0

    def _spool(self, snap: GraphSnapshot) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for i, edges in enumerate(snap.layers.values()):
            arrays[f"src_{i}"], arrays[f"dst_{i}"], arrays[f"w_{i}"] = edges.src, edges.dst, edges.w
        meta = {"step": snap.step, "epoch": snap.epoch, "metrics": snap.metrics,
                "layers": list(snap.layers)}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        final = self.spool_dir / f"{self._counter:08d}-step{snap.step}.npz"
        tmp = final.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        tmp.rename(final)
        self._counter += 1

    @staticmethod
    def _load_spooled(path: Path) -> GraphSnapshot:
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            layers = {name: LayerEdges(data[f"src_{i}"], data[f"dst_{i}"], data[f"w_{i}"])
                      for i, name in enumerate(meta["layers"])}
        return GraphSnapshot(layers=layers, step=meta["step"], epoch=meta["epoch"],
                             metrics=meta["metrics"])

    def _drain_spool(self, final: bool) -> bool:
        """Write spooled snapshots in order. False if the database is (still) unreachable."""
        files = self._spool_files()
        if not files:
            return True
        attempts = 3 if final else 1
        for attempt in range(attempts):
            try:
                self._connect()
                assert self._writer is not None
                for path in files:
                    snap = self._load_spooled(path)
                    if self._writer.last_step is not None and snap.step <= self._writer.last_step:
                        path.unlink()  # written before a crash, between write and unlink
                        continue
                    self._writer.write(snap, source="recorder")
                    self.written.append(snap.step)
                    path.unlink()
                if self._spooled_note:
                    _say(f"the database is back; replayed spooled snapshots of run {self.run!r}")
                    self._spooled_note = False
                return True
            except _UNAVAILABLE as exc:
                self._note_spooling(exc)
                files = self._spool_files()
                if attempt + 1 < attempts:
                    time.sleep(self.retry_interval)
            except Neo4jError as exc:
                if exc.is_retryable():
                    self._note_spooling(exc)
                    files = self._spool_files()
                    continue
                self._error = exc
                return True
            except SparsetopoError as exc:
                self._error = exc
                return True
        return False
