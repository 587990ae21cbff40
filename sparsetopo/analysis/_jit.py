"""Where the compiled analysis kernels are cached: one folder per kernel source, shared by clones.

numba's ``cache=True`` keeps a kernel's machine code next to its source file (``__pycache__``)
or, with ``NUMBA_CACHE_DIR``, under a folder named after the source file's absolute path. Either
way a fresh clone in another folder (a CI checkout, a second worktree) starts cold and compiles
every kernel again, about three minutes on two cores. The index numba keeps per kernel is
already keyed by the source file's content (numba >= 0.61 stamps the index with a SHA-256 of the
file; older releases with its mtime and size, which a fresh checkout changes).

:func:`cached_njit` keeps numba's cache format and index and changes only where it lives:
``<root>/<module>-<sha256 of the source, 16 hex digits>/``, with ``<root>`` numba's own
``NUMBA_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/sparsetopo/numba`` (``~/.cache/...``). Every
checkout with the same kernel source finds the same entries; an edited source gets a new folder,
so two branches never evict each other's code. Old folders are a few MB each and can be deleted
at any time; :func:`prune_cache` (run by the warm-up) keeps the newest few of each module. Where the root is not writable, numba's own locations are used as before.

This reaches into numba's caching classes (``numba.core.caching``); should they change, the
kernels fall back to plain ``cache=True``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from numba import config, njit

__all__ = [
    "announce_compile", "cache_dir", "cache_root", "cached_njit", "is_compiled", "prune_cache",
]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger(__name__)
_announced = False


def cache_root() -> Path:
    """Return the folder holding the compiled kernels of every sparsetopo version."""
    numba_dir = getattr(config, "CACHE_DIR", "")  # numba reads NUMBA_CACHE_DIR into its config
    if numba_dir:
        return Path(numba_dir) / "sparsetopo"
    from sparsetopo.settings import cache_home

    return cache_home() / "numba"


def _source_digest(py_file: str | os.PathLike[str]) -> str:
    return hashlib.sha256(Path(py_file).read_bytes()).hexdigest()


def cache_dir(py_file: str | os.PathLike[str]) -> Path:
    """Return the cache folder of the kernels defined in ``py_file`` (its current content)."""
    return cache_root() / f"{Path(py_file).stem}-{_source_digest(py_file)[:16]}"


def is_compiled(py_file: str | os.PathLike[str]) -> bool:
    """Whether compiled kernels of ``py_file``'s current content are in the cache."""
    folder = cache_dir(py_file)
    return folder.is_dir() and any(folder.glob("*.nbc"))


def prune_cache(py_files: list[str | os.PathLike[str]], keep: int = 4) -> list[Path]:
    """Delete the cached kernels of old sources, keeping the newest ``keep`` per module.

    Every edit of a kernel module leaves a folder behind (a few MB); a developer switching
    branches wants the recent ones, nobody wants them all. The folder of each module's current
    source is always kept and counts as the newest (its time stamp is renewed here).

    Parameters
    ----------
    py_files : list of path-like
        The kernel modules' source files.
    keep : int, default 4
        Folders kept per module, the current one included (at least 1).

    Returns
    -------
    list of Path
        The folders deleted.

    Examples
    --------
    >>> prune_cache([], keep=2)
    []
    """
    import shutil

    keep = max(1, int(keep))
    root = cache_root()
    removed: list[Path] = []
    for py_file in py_files:
        current = cache_dir(py_file)
        if current.is_dir():
            os.utime(current)
        stem = Path(py_file).stem
        old = [p for p in root.glob(f"{stem}-*")
               if p.is_dir() and p != current and len(p.name) == len(stem) + 17]
        old.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for folder in old[keep - 1:]:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        logger.info("removed %d cached kernel folder(s) of old sources from %s", len(removed), root)
    return removed


def announce_compile(*py_files: str | os.PathLike[str]) -> None:
    """Log once per process when the kernels of ``py_files`` are about to compile (not cached).

    The first analysis on a machine would otherwise sit silent for minutes.
    """
    global _announced
    if _announced:
        return
    _announced = True
    missing = [Path(f).stem for f in py_files if not is_compiled(f)]
    if missing:
        logger.info(
            "compiling the analysis kernels on first use (about 3 minutes on 2 cores, once per "
            "version; cached in %s; `python -m sparsetopo.analysis.warmup` does it ahead)",
            cache_root(),
        )


def _shared_cache_class() -> Any:
    """Numba's FunctionCache with the content-addressed locator tried first, or None."""
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover - another numba layout
        return None
    base: Any = getattr(caching, "_CacheLocator", None)
    impl: Any = getattr(caching, "CompileResultCacheImpl", None)
    function_cache: Any = getattr(caching, "FunctionCache", None)
    if base is None or impl is None or function_cache is None:  # pragma: no cover
        return None

    class ContentLocator(base):  # type: ignore[misc, valid-type]
        def __init__(self, py_func: Any, py_file: str) -> None:
            self._lineno = py_func.__code__.co_firstlineno
            digest = _source_digest(py_file)
            self._stamp = digest
            self._cache_path = str(cache_root() / f"{Path(py_file).stem}-{digest[:16]}")

        def get_cache_path(self) -> str:
            return self._cache_path

        def get_source_stamp(self) -> str:
            return self._stamp

        def get_disambiguator(self) -> str:
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if not os.path.exists(py_file):
                return None
            self = cls(py_func, py_file)
            try:
                self.ensure_cache_path()
            except OSError:  # not writable: numba's own locators take over
                return None
            return self

    class SharedImpl(impl):  # type: ignore[misc, valid-type]
        _locator_classes: ClassVar[list[Any]] = [ContentLocator, *impl._locator_classes]

    class SharedFunctionCache(function_cache):  # type: ignore[misc, valid-type]
        _impl_class = SharedImpl

    return SharedFunctionCache


_SHARED_CACHE = _shared_cache_class()


def cached_njit(func: F) -> F:
    """Compile ``func`` with ``numba.njit`` and cache it in :func:`cache_dir` of its module.

    Parameters
    ----------
    func : callable
        The kernel's Python source.

    Returns
    -------
    numba dispatcher
        As ``njit(cache=True)(func)``; the cache is shared by every checkout of the same source.
    """
    if _SHARED_CACHE is None:  # pragma: no cover - numba's caching classes moved
        return njit(cache=True)(func)  # type: ignore[return-value]
    dispatcher: Any = njit(func)
    # what njit(cache=True) does (Dispatcher.enable_caching), with the shared locator first
    dispatcher._cache = _SHARED_CACHE(dispatcher.py_func)
    return dispatcher  # type: ignore[no-any-return]
