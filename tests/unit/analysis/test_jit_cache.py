"""The kernel cache keeps the newest folders of each module and always the current source's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from numba import config

from sparsetopo.analysis import _jit


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path))
    return tmp_path / "sparsetopo"


def _folder(root: Path, stem: str, digest: str, age: float) -> Path:
    folder = root / f"{stem}-{digest}"
    folder.mkdir(parents=True)
    (folder / "k.nbc").write_bytes(b"x")
    os.utime(folder, (1e9 - age, 1e9 - age))
    return folder


def test_prune_keeps_current_and_newest(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "_mod.py"
    src.write_text("x = 1\n")
    current = _jit.cache_dir(src)
    current.mkdir(parents=True)
    os.utime(current, (1.0, 1.0))  # the oldest of all, yet it is the current source's
    old = [_folder(root, "_mod", f"{i:016x}", age=i * 100.0) for i in range(1, 6)]
    other = _folder(root, "_other", "f" * 16, age=10_000.0)  # another module: untouched
    unrelated = root / "_mod-notahash"
    unrelated.mkdir()

    removed = _jit.prune_cache([src], keep=3)

    # kept: the current folder and the two newest old ones (ages 100 and 200)
    assert sorted(removed) == sorted(old[2:])
    assert current.is_dir() and old[0].is_dir() and old[1].is_dir()
    assert other.is_dir() and unrelated.is_dir()
    assert not any(p.exists() for p in old[2:])


def test_prune_keep_one_leaves_only_current(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "_mod.py"
    src.write_text("y = 2\n")
    old = [_folder(root, "_mod", f"{i:016x}", age=float(i)) for i in range(1, 3)]
    assert sorted(_jit.prune_cache([src], keep=0)) == sorted(old)
    assert _jit.prune_cache([src], keep=1) == []
