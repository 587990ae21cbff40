"""Path integration (navigation), as in the RNN experiments of Mackey et al. 2024.

A simulated agent walks in the unit box [0, 1]^2: start uniform in [0.1, 0.9]^2, heading uniform,
each step the heading turns by N(0, ``turn_sd``^2) and the agent moves a Rayleigh(``speed``)
distance, reflecting off the walls. Inputs per step: the actual displacement (dx, dy), plus the
start position (x0, y0) on the first step only (zeros after). Targets: the activity of
``n_place`` place cells (Gaussian tuning, width ``place_sd``, centres uniform in the box)
normalised to sum to 1; the loss is cross-entropy between that distribution and the softmax
of the output. Decoded position = mean of the centres of the 3 most active predicted cells.
Metric: mean decoded position error over all steps, in box side lengths (lower is better;
always guessing the centre scores about 0.38).
"""

from __future__ import annotations

import numpy as np
import torch

from sparsetopo.training.tasks.base import Task, TaskData


def random_walks(
    n: int, steps: int, rng: np.random.Generator, *, speed: float = 0.04, turn_sd: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (n, steps + 1, 2) and displacements (n, steps, 2) of reflected random walks."""
    pos = np.empty((n, steps + 1, 2))
    pos[:, 0] = rng.uniform(0.1, 0.9, size=(n, 2))
    heading = rng.uniform(-np.pi, np.pi, size=n)
    for t in range(steps):
        heading = heading + rng.normal(0.0, turn_sd, size=n)
        dist = rng.rayleigh(speed, size=n)
        nxt = pos[:, t] + dist[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
        low, high = nxt < 0, nxt > 1
        nxt = np.where(low, -nxt, nxt)
        nxt = np.where(high, 2 - nxt, nxt)
        # a reflection reverses the heading's component across that wall
        heading = np.where(low[:, 0] | high[:, 0], np.pi - heading, heading)
        heading = np.where(low[:, 1] | high[:, 1], -heading, heading)
        pos[:, t + 1] = nxt
    return pos, np.diff(pos, axis=1)


def place_code(positions: np.ndarray, centres: np.ndarray, sd: float) -> np.ndarray:
    """Normalised Gaussian place-cell activity for positions (..., 2)."""
    d2 = ((positions[..., None, :] - centres) ** 2).sum(-1)
    act = np.exp(-d2 / (2 * sd**2))
    return act / act.sum(-1, keepdims=True)


class NavigationTask(Task):
    """Path integration; options ``steps`` (20), ``n_place`` (64), ``place_sd`` (0.1),
    ``n_train`` (4000), ``n_test`` (500)."""

    name = "navigation"
    metric = "position_error"
    higher_is_better = False
    output = "all"
    default_model = "rnn"
    hidden = 128
    lr = 3e-3
    epochs = 20
    batch_size = 64
    n_in = 4

    def __init__(
        self, steps: int = 20, n_place: int = 64, place_sd: float = 0.1, n_train: int = 4000,
        n_test: int = 500,
    ) -> None:
        self.steps, self.n_place, self.place_sd = steps, n_place, place_sd
        self.n_train, self.n_test = n_train, n_test
        self.n_out = n_place
        self.centres = np.zeros((n_place, 2))

    def _make(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        pos, disp = random_walks(n, self.steps, rng)
        x = np.zeros((n, self.steps, 4))
        x[:, :, :2] = disp
        x[:, 0, 2:] = pos[:, 0]
        y = place_code(pos[:, 1:], self.centres, self.place_sd)
        # the true positions ride along after the place code, for the metric
        target = np.concatenate([y, pos[:, 1:]], axis=-1)
        return torch.tensor(x, dtype=torch.float32), torch.tensor(target, dtype=torch.float32)

    def data(self, seed: int) -> TaskData:
        rng = np.random.default_rng(seed)
        self.centres = rng.uniform(0.0, 1.0, size=(self.n_place, 2))
        x_tr, y_tr = self._make(self.n_train, rng)
        x_te, y_te = self._make(self.n_test, rng)
        return TaskData(x_tr, y_tr, x_te, y_te)

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        target = y[..., : self.n_place]
        return -(target * torch.log_softmax(out, dim=-1)).sum(-1).mean()

    def decode(self, out: torch.Tensor) -> torch.Tensor:
        centres = torch.tensor(self.centres, dtype=out.dtype, device=out.device)
        top = out.topk(3, dim=-1).indices
        return centres[top].mean(dim=-2)

    def score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        true_pos = y[..., self.n_place :]
        return float((self.decode(out) - true_pos).norm(dim=-1).mean())
