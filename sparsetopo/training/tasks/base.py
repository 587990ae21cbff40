"""What a built-in task provides: tensors for training and testing, a loss and a metric."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class TaskData:
    """Training and test tensors: inputs (batch, features) or (batch, time, features)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    def loaders(self, batch_size: int, seed: int) -> tuple[DataLoader, DataLoader]:
        gen = torch.Generator().manual_seed(seed)
        train = DataLoader(
            TensorDataset(self.x_train, self.y_train), batch_size=batch_size, shuffle=True,
            generator=gen,
        )
        test = DataLoader(TensorDataset(self.x_test, self.y_test), batch_size=1024)
        return train, test


class Task:
    """Base class of the built-in tasks.

    Class attributes document the task: ``metric`` (name of the task metric),
    ``higher_is_better``, ``output`` ("last": one output per sequence, "all": one per time step),
    ``sequential`` (inputs are sequences), the defaults ``default_model``, ``hidden``, ``lr``,
    ``epochs``, ``batch_size``.
    """

    name = "task"
    metric = "loss"
    higher_is_better = False
    output = "last"
    sequential = True
    default_model = "rnn"
    hidden = 64
    lr = 1e-2
    epochs = 20
    batch_size = 32
    n_in = 1
    n_out = 1

    def data(self, seed: int) -> TaskData:
        raise NotImplementedError

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        """The task metric on a whole evaluation set (outputs concatenated over batches)."""
        raise NotImplementedError


class ClassificationTask(Task):
    """Base of the image classification tasks: cross-entropy loss, accuracy as the metric.

    Subclasses give ``data`` and may reshape inputs in ``shape_inputs`` (flat vectors for an
    MLP, rows as time steps for an RNN).
    """

    metric = "accuracy"
    higher_is_better = True
    output = "last"
    sequential = False
    default_model = "mlp"
    n_out = 10

    def shape_inputs(self, x: np.ndarray) -> np.ndarray:
        return x

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, y)

    def score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        return accuracy(out, y)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(dim=-1) == labels).float().mean())
