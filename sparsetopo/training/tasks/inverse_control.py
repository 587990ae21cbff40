"""Feed-forward inverse control of a planar rigid body, in the spirit of Zahn et al. 2024 (a
network learns the controls that produced a movement from its start and end states).

A body of unit mass and unit moment of inertia moves in the plane with linear damping ``damping``
(on velocity and angular velocity). A control u = (forward force, lateral force, torque), each
U(-1, 1) and constant over the horizon, acts in the body frame, so the world-frame force rotates
with the body; this coupling makes the inverse problem nonlinear. The state
(x, y, theta, vx, vy, omega) starts at position 0, heading U(-pi, pi) and velocities N(0, 0.5^2)
and is integrated by semi-implicit Euler for ``horizon`` = 2 time units in 40 steps.
Inputs: initial and final state as (x, y, cos theta, sin theta, vx, vy, omega), 14 features,
standardised with training statistics. Target: u (3 values).
Metric: test R^2 of the predicted controls, averaged over the three (higher is better; 1 is
perfect, 0 is predicting the mean).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from sparsetopo.training.tasks.base import Task, TaskData


def simulate_body(
    state0: np.ndarray, controls: np.ndarray, *, horizon: float = 2.0, n_steps: int = 40,
    damping: float = 0.5,
) -> np.ndarray:
    """Final states (n, 6) of bodies starting at ``state0`` (n, 6) under ``controls`` (n, 3)."""
    x, y, th, vx, vy, om = (state0[:, k].copy() for k in range(6))
    dt = horizon / n_steps
    f_fwd, f_lat, torque = controls[:, 0], controls[:, 1], controls[:, 2]
    for _ in range(n_steps):
        c, s = np.cos(th), np.sin(th)
        ax = f_fwd * c - f_lat * s - damping * vx
        ay = f_fwd * s + f_lat * c - damping * vy
        vx = vx + dt * ax
        vy = vy + dt * ay
        om = om + dt * (torque - damping * om)
        x, y, th = x + dt * vx, y + dt * vy, th + dt * om
    return np.stack([x, y, th, vx, vy, om], axis=1)


def _features(state: np.ndarray) -> np.ndarray:
    x, y, th, vx, vy, om = state.T
    return np.stack([x, y, np.cos(th), np.sin(th), vx, vy, om], axis=1)


class InverseControlTask(Task):
    """Inverse control; options ``n_train`` (8000), ``n_test`` (2000), ``damping`` (0.5)."""

    name = "inverse-control"
    metric = "r2"
    higher_is_better = True
    output = "last"
    sequential = False
    default_model = "mlp"
    hidden = 128
    lr = 3e-3
    epochs = 30
    batch_size = 64
    n_in = 14
    n_out = 3

    def __init__(self, n_train: int = 8000, n_test: int = 2000, damping: float = 0.5) -> None:
        self.n_train, self.n_test, self.damping = n_train, n_test, damping

    def _make(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        state0 = np.zeros((n, 6))
        state0[:, 2] = rng.uniform(-np.pi, np.pi, size=n)
        state0[:, 3:] = rng.normal(0.0, 0.5, size=(n, 3))
        u = rng.uniform(-1.0, 1.0, size=(n, 3))
        final = simulate_body(state0, u, damping=self.damping)
        return np.concatenate([_features(state0), _features(final)], axis=1), u

    def data(self, seed: int) -> TaskData:
        rng = np.random.default_rng(seed)
        x_tr, u_tr = self._make(self.n_train, rng)
        x_te, u_te = self._make(self.n_test, rng)
        mean, sd = x_tr.mean(0), x_tr.std(0) + 1e-8
        sd[:2] = 1.0  # initial position is always 0: keep those features at 0
        x_tr, x_te = (x_tr - mean) / sd, (x_te - mean) / sd
        return TaskData(
            *(torch.tensor(a, dtype=torch.float32) for a in (x_tr, u_tr, x_te, u_te))
        )

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out, y)

    def score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        resid = ((out - y) ** 2).sum(0)
        total = ((y - y.mean(0)) ** 2).sum(0)
        return float((1.0 - resid / total).mean())
