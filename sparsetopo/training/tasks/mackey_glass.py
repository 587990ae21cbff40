"""Mackey-Glass chaotic time-series prediction.

The series integrates the delay differential equation
``dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t)`` with beta = 0.2, gamma = 0.1,
n = 10, tau = 17 (chaotic regime), history x = 1.2 for t <= 0, by 4th-order Runge-Kutta with step
``dt`` = 0.1 (the delayed value at half steps is the mean of its two grid neighbours). After a
transient of 500 time units it is sampled every ``sample_every`` = 1 time unit.

Windows of ``window`` samples are the inputs; at every step the model predicts the value
``horizon`` samples ahead (output "all"). Training windows come from the first 75 % of the series,
test windows from the rest. Metric: test NRMSE = RMSE / std(target), ignoring the first
``washout`` steps of each window (lower is better; predicting the mean scores 1).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from sparsetopo.errors import InputError
from sparsetopo.training.tasks.base import Task, TaskData


def mackey_glass(
    n_samples: int, *, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1, power: float = 10,
    dt: float = 0.1, sample_every: float = 1.0, transient: float = 500.0, x0: float = 1.2,
) -> np.ndarray:
    """``n_samples`` values of the Mackey-Glass series, one every ``sample_every`` time units."""
    lag = round(tau / dt)
    stride = round(sample_every / dt)
    if lag < 1 or stride < 1:
        raise InputError("Mackey-Glass needs tau >= dt and sample_every >= dt")
    n_steps = round(transient / dt) + n_samples * stride
    x = np.empty(lag + n_steps + 1)
    x[: lag + 1] = x0

    def rhs(xt: float, xlag: float) -> float:
        return beta * xlag / (1.0 + xlag**power) - gamma * xt

    for i in range(lag, lag + n_steps):
        d0, d1 = x[i - lag], x[i - lag + 1]
        dmid = 0.5 * (d0 + d1)
        xi = x[i]
        k1 = rhs(xi, d0)
        k2 = rhs(xi + 0.5 * dt * k1, dmid)
        k3 = rhs(xi + 0.5 * dt * k2, dmid)
        k4 = rhs(xi + dt * k3, d1)
        x[i + 1] = xi + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    start = lag + round(transient / dt)
    return x[start + stride :: stride][:n_samples]


class MackeyGlassTask(Task):
    """Mackey-Glass prediction; options ``n_samples`` (4000), ``window`` (50), ``horizon`` (5),
    ``washout`` (10)."""

    name = "mackey-glass"
    metric = "nrmse"
    higher_is_better = False
    output = "all"
    default_model = "rnn"
    hidden = 64
    lr = 5e-3
    epochs = 20
    batch_size = 32
    n_in = 1
    n_out = 1

    def __init__(
        self, n_samples: int = 4000, window: int = 50, horizon: int = 5, washout: int = 10
    ) -> None:
        if window <= washout or horizon < 1:
            raise InputError("mackey-glass needs window > washout and horizon >= 1")
        self.n_samples, self.window, self.horizon, self.washout = n_samples, window, horizon, washout

    def _windows(self, series: np.ndarray, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
        span = self.window + self.horizon
        starts = np.arange(0, len(series) - span, stride)
        x = np.stack([series[s : s + self.window] for s in starts])
        y = np.stack([series[s + self.horizon : s + self.horizon + self.window] for s in starts])
        return (
            torch.tensor(x[..., None], dtype=torch.float32),
            torch.tensor(y[..., None], dtype=torch.float32),
        )

    def data(self, seed: int) -> TaskData:
        # the series is deterministic; the seed only shuffles minibatches
        series = mackey_glass(self.n_samples)
        series = (series - series.mean()) / series.std()
        cut = int(0.75 * len(series))
        x_tr, y_tr = self._windows(series[:cut], stride=2)
        x_te, y_te = self._windows(series[cut:], stride=self.window)
        return TaskData(x_tr, y_tr, x_te, y_te)

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out[:, self.washout :], y[:, self.washout :])

    def score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        o, t = out[:, self.washout :], y[:, self.washout :]
        return float(torch.sqrt(F.mse_loss(o, t)) / t.std())
