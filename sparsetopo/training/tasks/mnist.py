"""MNIST from local IDX files (the format of the original distribution; nothing is downloaded).

- ``mnist``: each 28x28 image flattened to 784 features for an MLP (Liu et al. 2020).
- ``seq-mnist``: each image fed row by row, 28 time steps of 28 pixels, to a recurrent model
  (Zhang et al. 2023).

Option ``data_dir``: a folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each may end in ``.gz``; ``-`` and
``.`` before ``idx`` are both accepted). Pixels are scaled to [0, 1]; the official train/test
split is kept. Option ``n_train`` keeps a seeded random subset of the training images.
Metric: test accuracy.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from sparsetopo.errors import InputError
from sparsetopo.training.tasks.base import ClassificationTask, TaskData

#: IDX file stems, in the order (train images, train labels, test images, test labels).
STEMS = ("train-images", "train-labels", "t10k-images", "t10k-labels")


def _find(folder: Path, stem: str) -> Path | None:
    kind = "idx3-ubyte" if "images" in stem else "idx1-ubyte"
    for sep in ("-", "."):
        for ext in ("", ".gz"):
            p = folder / f"{stem}{sep}{kind}{ext}"
            if p.is_file():
                return p
    return None


def has_mnist(data_dir: str | Path | None) -> bool:
    """True when ``data_dir`` holds the four MNIST IDX files."""
    if not data_dir:
        return False
    folder = Path(data_dir)
    return folder.is_dir() and all(_find(folder, s) is not None for s in STEMS)


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (unsigned bytes) as a numpy array of its declared shape.

    Raises
    ------
    InputError
        If the file is not an unsigned-byte IDX file or is truncated.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise InputError(f"{path} is not an unsigned-byte IDX file; use the MNIST IDX files")
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise InputError(f"{path} is truncated ({body.size} of {int(np.prod(shape))} values)")
    return body.reshape(shape)


class MnistTask(ClassificationTask):
    """MNIST as 784-feature vectors; options ``data_dir`` and ``n_train`` (None: all)."""

    name = "mnist"
    hidden = 1000
    lr = 1e-3
    epochs = 20
    batch_size = 128
    n_in = 784

    def __init__(self, data_dir: str | None = None, n_train: int | None = None) -> None:
        if not has_mnist(data_dir):
            raise InputError(f"data_dir {data_dir!r} does not hold the four MNIST IDX files "
                             f"({', '.join(s + '-idx?-ubyte' for s in STEMS)}); pass "
                             "--data-dir with them")
        self.data_dir, self.n_train = Path(str(data_dir)), n_train

    def data(self, seed: int) -> TaskData:
        x_tr, y_tr, x_te, y_te = (read_idx(_find(self.data_dir, s)) for s in STEMS)  # type: ignore[arg-type]
        if self.n_train is not None and self.n_train < len(x_tr):
            pick = np.random.default_rng(seed).choice(len(x_tr), self.n_train, replace=False)
            x_tr, y_tr = x_tr[pick], y_tr[pick]

        def prep(x: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(self.shape_inputs((x / 255.0).astype(np.float32)))

        return TaskData(prep(x_tr), torch.from_numpy(y_tr.astype(np.int64)), prep(x_te),
                        torch.from_numpy(y_te.astype(np.int64)))

    def shape_inputs(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), -1)


class SeqMnistTask(MnistTask):
    """MNIST fed row by row (28 steps x 28 pixels) to an RNN; metric accuracy."""

    name = "seq-mnist"
    sequential = True
    default_model = "rnn"
    hidden = 150
    n_in = 28

    def shape_inputs(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), 28, 28)
