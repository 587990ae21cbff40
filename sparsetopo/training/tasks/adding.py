"""The adding problem (Hochreiter & Schmidhuber 1997; used by Mackey et al. 2024).

Each sequence has ``length`` steps of two inputs: a value drawn from U(0, 1) and a marker that is
1 at exactly two steps (one in each half of the sequence) and 0 elsewhere. The target is the sum
of the two marked values. Metric: test mean squared error (lower is better); always predicting 1
scores Var(U1 + U2) = 1/6 ~ 0.167, so an MSE well below that means the network adds.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from sparsetopo.errors import InputError
from sparsetopo.training.tasks.base import Task, TaskData


def adding_sequences(
    n: int, length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` adding-problem sequences: inputs (n, length, 2) and targets (n, 1)."""
    if length < 2:
        raise InputError(f"adding problem length must be >= 2, got {length}")
    values = rng.uniform(0.0, 1.0, size=(n, length))
    half = length // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    markers = np.zeros((n, length))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(np.float32)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)[:, None]
    return x, y


class AddingTask(Task):
    """Adding problem; options ``length`` (default 30), ``n_train`` (5000), ``n_test`` (1000)."""

    name = "adding"
    metric = "mse"
    higher_is_better = False
    output = "last"
    default_model = "gru"
    hidden = 64
    lr = 1e-2
    epochs = 20
    batch_size = 64
    n_in = 2
    n_out = 1

    def __init__(self, length: int = 30, n_train: int = 5000, n_test: int = 1000) -> None:
        self.length, self.n_train, self.n_test = length, n_train, n_test

    def data(self, seed: int) -> TaskData:
        rng = np.random.default_rng(seed)
        x_tr, y_tr = adding_sequences(self.n_train, self.length, rng)
        x_te, y_te = adding_sequences(self.n_test, self.length, rng)
        return TaskData(*(torch.from_numpy(a) for a in (x_tr, y_tr, x_te, y_te)))

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out, y)

    def score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        return float(F.mse_loss(out, y))
