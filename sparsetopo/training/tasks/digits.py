"""Handwritten digits (scikit-learn's bundled 8x8 UCI digits, 1797 images; no download).

- ``digits``: each image flattened to 64 features for an MLP.
- ``seq-digits``: each image fed row by row, 8 time steps of 8 pixels, to a recurrent model that
  classifies from its final hidden state.
Pixels are scaled to [0, 1]; a stratified 80/20 train/test split is drawn with the run's seed.
Metric: test accuracy (fraction of correctly classified test images; chance 0.1).
"""

from __future__ import annotations

import numpy as np
import torch

from sparsetopo.training.tasks.base import ClassificationTask, TaskData


def load_digits_split(seed: int, test_fraction: float = 0.2) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    parts: tuple[np.ndarray, ...] = tuple(
        train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    )
    return parts


class DigitsTask(ClassificationTask):
    """8x8 digits as 64-feature vectors; metric accuracy."""

    name = "digits"
    hidden = 64
    lr = 3e-3
    epochs = 20
    batch_size = 32
    n_in = 64

    def data(self, seed: int) -> TaskData:
        x_tr, x_te, y_tr, y_te = load_digits_split(seed)
        return TaskData(
            torch.from_numpy(self.shape_inputs(x_tr)), torch.from_numpy(y_tr),
            torch.from_numpy(self.shape_inputs(x_te)), torch.from_numpy(y_te),
        )


class SeqDigitsTask(DigitsTask):
    """8x8 digits fed row by row (8 steps x 8 pixels) to an RNN; metric accuracy."""

    name = "seq-digits"
    sequential = True
    default_model = "rnn"
    hidden = 64
    lr = 1e-2
    epochs = 20
    n_in = 8

    def shape_inputs(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x.reshape(-1, 8, 8))
