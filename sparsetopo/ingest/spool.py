"""The Recorder's disk spool: snapshots waiting for the database, keyed by run and writer.

Layout (owner-only: folders 0700, files 0600)::

    <spool_dir>/                    one folder per run name (default $SPARSETOPO_HOME/spool/<hash>)
        <writer>/                   one folder per Recorder instance (its writer id)
            meta.json               run name, run id (once known), writer id, host, pid
            lock                    flock()ed while that Recorder lives
            000000000007-step40.npz one snapshot, named by capture order
            rejected/               spooled snapshots that were not replayed, with a reason

A folder is only ever replayed into the run whose ``run_id`` it records: a replaced run gets a
new id, so an old spool can never leak into a new experiment. A folder whose lock is free belongs
to a Recorder that ended (or crashed); another Recorder of the same run id may adopt it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

from sparsetopo.topology import GraphSnapshot, LayerEdges

_log = logging.getLogger(__name__)

_DIR_MODE = 0o700
_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
    with contextlib.suppress(OSError):
        path.chmod(_DIR_MODE)
    return path


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.rename(path)


class SpoolDir:
    """The spool folder of one writer (one Recorder instance) of one run.

    Parameters
    ----------
    path : Path
        The writer's folder (``<spool_dir>/<writer>``); created owner-only.
    meta : dict
        Stored as meta.json: ``run``, ``run_id`` (None until known), ``writer``.
    lock : bool
        Hold an exclusive flock on ``lock`` for the lifetime of this object (a live writer).
    """

    def __init__(self, path: Path, meta: dict[str, Any], lock: bool = True) -> None:
        self.path = private_dir(path)
        self.meta = dict(meta)
        self._lock_fd: int | None = None
        if lock:
            fd = os.open(self.path / "lock", os.O_RDWR | os.O_CREAT, _FILE_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._lock_fd = fd
        self._save_meta()

    @classmethod
    def open_existing(cls, path: Path) -> SpoolDir | None:
        """Adopt the folder of an ended writer: None if its writer still lives (lock held) or
        the folder is not a spool folder."""
        try:
            meta = json.loads((path / "meta.json").read_text())
        except (OSError, ValueError):
            return None
        fd = os.open(path / "lock", os.O_RDWR | os.O_CREAT, _FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        spool = cls.__new__(cls)
        spool.path, spool.meta, spool._lock_fd = path, meta, fd
        return spool

    def _save_meta(self) -> None:
        _write_private(self.path / "meta.json", json.dumps(self.meta, sort_keys=True).encode())

    @property
    def run_id(self) -> int | None:
        value = self.meta.get("run_id")
        return None if value is None else int(value)

    def set_run_id(self, run_id: int) -> None:
        if self.meta.get("run_id") != run_id:
            self.meta["run_id"] = run_id
            self._save_meta()

    def files(self) -> list[Path]:
        """Spooled snapshots in capture order."""
        return sorted(self.path.glob("*.npz"))

    def rejected(self) -> list[Path]:
        folder = self.path / "rejected"
        return sorted(folder.glob("*.npz")) if folder.exists() else []

    def write(self, index: int, snap: GraphSnapshot) -> Path:
        """Store `snap` as file number `index` (atomic: a crash leaves no partial .npz)."""
        arrays: dict[str, np.ndarray] = {}
        for i, edges in enumerate(snap.layers.values()):
            arrays[f"src_{i}"], arrays[f"dst_{i}"], arrays[f"w_{i}"] = edges.src, edges.dst, edges.w
        meta = {"step": snap.step, "epoch": snap.epoch, "metrics": snap.metrics,
                "layers": list(snap.layers), "run_id": self.run_id, "writer": self.meta["writer"]}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        final = self.path / f"{index:012d}-step{snap.step}.npz"
        tmp = final.with_name(final.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **arrays)  # type: ignore[arg-type]
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        tmp.rename(final)
        return final

    @staticmethod
    def load(path: Path) -> GraphSnapshot:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            layers = {name: LayerEdges(data[f"src_{i}"], data[f"dst_{i}"], data[f"w_{i}"])
                      for i, name in enumerate(meta["layers"])}
        return GraphSnapshot(layers=layers, step=meta["step"], epoch=meta["epoch"],
                             metrics=meta["metrics"])

    def reject(self, path: Path, reason: str) -> Path:
        """Move a spooled snapshot to rejected/ (never deleted) with a note saying why."""
        folder = private_dir(self.path / "rejected")
        target = folder / path.name
        path.rename(target)
        _write_private(folder / (path.name + ".why.txt"), (reason + "\n").encode())
        return target

    def release(self, remove_if_empty: bool = True) -> None:
        """Drop the lock; delete the folder when nothing is left in it."""
        for tmp in self.path.glob("*.tmp"):
            tmp.unlink(missing_ok=True)
        if remove_if_empty and not self.files() and not self.rejected():
            shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = None


def writer_folder_name(writer: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in writer)[:100]


def ended_writers(run_dir: Path, exclude: Path | None = None) -> list[SpoolDir]:
    """Spool folders of writers of this run that ended (lock free), oldest first."""
    if not run_dir.exists():
        return []
    found = []
    for folder in sorted(run_dir.iterdir(), key=lambda p: p.stat().st_mtime):
        if not folder.is_dir() or (exclude is not None and folder == exclude):
            continue
        spool = SpoolDir.open_existing(folder)
        if spool is not None:
            found.append(spool)
    return found


def created_meta(run: str, writer: str, replace: bool) -> dict[str, Any]:
    return {"run": run, "run_id": None, "writer": writer, "replace": replace,
            "created": time.time(), "pid": os.getpid(), "host": socket.gethostname()}
