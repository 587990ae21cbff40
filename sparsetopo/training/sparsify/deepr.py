"""Deep Rewiring (Deep R; Bellec, Kappel, Maass & Legenstein 2018).

Every potential connection k has a fixed sign ``s_k`` (drawn from the sign of its initial weight)
and a parameter ``theta_k``; it is active iff ``theta_k > 0`` and then ``w_k = s_k theta_k``.
After each optimizer step on the active weights, every active parameter also takes the L1 and
noise terms of the Deep R update, ``theta <- theta - eta alpha + sqrt(2 eta T) nu`` with
``nu ~ N(0, 1)``; connections whose ``theta`` fell to <= 0 become dormant and as many dormant
connections, chosen uniformly at random, are reactivated with ``theta = init_theta``. The number
of active connections is therefore constant and no weight ever changes sign.

Options: ``alpha`` (L1 strength, default 1e-4), ``temperature`` (default 1e-8), ``eta``
(default: the optimizer's learning rate), ``init_theta`` (default 1e-3).
"""

from __future__ import annotations

import math

import torch

from sparsetopo.errors import InputError
from sparsetopo.training.sparsify.base import Strategy, active, orig_of, set_mask
from sparsetopo.training.sparsify.schedules import n_keep
from sparsetopo.training.sparsify.set_evolution import random_mask


class DeepR(Strategy):
    """Deep R with a constant number of active connections per matrix (1 - sparsity of it)."""

    name = "deepr"

    def __init__(
        self, sparsity: float, *, seed: int = 0, granularity: str = "layer",
        alpha: float = 1e-4, temperature: float = 1e-8, eta: float | None = None,
        init_theta: float = 1e-3,
    ) -> None:
        super().__init__(sparsity, seed=seed, granularity=granularity)
        if alpha < 0 or temperature < 0 or init_theta <= 0:
            raise InputError("Deep R needs alpha >= 0, temperature >= 0 and init_theta > 0")
        self.alpha, self.temperature, self.eta, self.init_theta = alpha, temperature, eta, init_theta
        self.signs: dict[str, torch.Tensor] = {}
        self.rewired = 0

    def on_attach(self) -> None:
        for t in self.targets:
            orig = orig_of(t)
            with torch.no_grad():
                sign = torch.where(orig >= 0, 1.0, -1.0).to(orig.dtype)
                self.signs[t.label] = sign
            set_mask(t, random_mask(t.shape, n_keep(t.numel, self.target_sparsity), self.generator))

    def after_step(self, step: int) -> None:
        eta = self.eta if self.eta is not None else self.plan.lr
        noise_sd = math.sqrt(2.0 * eta * self.temperature)
        for t in self.targets:
            orig = orig_of(t)
            sign = self.signs[t.label]
            present = active(t)
            with torch.no_grad():
                theta = sign * orig
                theta -= eta * self.alpha
                if noise_sd > 0:
                    theta += noise_sd * torch.randn(theta.shape, generator=self.generator).to(theta.device)
                died = present & (theta <= 0)
                n_died = int(died.sum())
                alive = present & ~died
                if n_died:
                    dormant = torch.nonzero(~alive.reshape(-1)).reshape(-1)
                    # the connections that just died are dormant too, as in Deep R
                    pick = dormant[torch.randperm(dormant.numel(), generator=self.generator)[:n_died]]
                    flat = theta.view(-1)
                    flat[pick] = self.init_theta
                    alive.view(-1)[pick] = True
                    self.rewired += n_died
                # dormant parameters are parked at 0 so they cannot carry a stale sign
                orig.copy_(torch.where(alive, sign * theta, torch.zeros_like(theta)))
            set_mask(t, alive)
