"""Structural-balance-guided topologies (Zhang et al. 2023): train on a fixed sparse recurrent
topology whose FFL balance was raised by simulated annealing before training.

For each recurrent matrix (hidden size H): a random signed digraph with ``H^2 - round(s H^2)``
edges and no self-loops (signs +1 with probability ``p_positive``, per edge or per source with
``dale``), annealed with :func:`~.balance_anneal.anneal_balance` to ``target_balance`` (default
0.9). Weights start as ``w = sign * |U(-a, a)|`` with ``a = init_scale`` (default 1/sqrt(H)); the
mask never changes, the weights train freely. For GRU/LSTM every gate block gets the same topology.
Graph edge i->j is torch entry ``W[j, i]`` (PyTorch stores (out, in)).
"""

from __future__ import annotations

import numpy as np
import torch

from sparsetopo.errors import InputError
from sparsetopo.training.sparsify.balance_anneal import (
    AnnealResult,
    anneal_balance,
    random_signed_digraph,
)
from sparsetopo.training.sparsify.base import Strategy, orig_of, refresh, set_mask
from sparsetopo.training.sparsify.schedules import n_keep

#: Smallest magnitude of a sign-fixed weight (0 would drop the edge from the stored graph).
SIGN_FLOOR = 1e-4


class BalancedTopology(Strategy):
    """Fixed annealed topology. Options: ``target_balance``, ``p_positive`` (0.5), ``dale``
    (False), ``init_scale``, ``max_iters`` (annealing proposals), ``fix_signs`` (False)."""

    name = "balanced"

    def __init__(
        self, sparsity: float, *, seed: int = 0, granularity: str = "layer",
        target_balance: float = 0.9, p_positive: float = 0.5, dale: bool = False,
        init_scale: float | None = None, max_iters: int | None = None, fix_signs: bool = False,
    ) -> None:
        super().__init__(sparsity, seed=seed, granularity=granularity)
        if not 0.0 <= target_balance <= 1.0:
            raise InputError(f"target_balance must be in [0, 1], got {target_balance}")
        self.target_balance, self.p_positive, self.dale = target_balance, p_positive, dale
        self.init_scale, self.max_iters = init_scale, max_iters
        self.fix_signs = bool(fix_signs)
        self.results: dict[str, AnnealResult] = {}
        self.signs: dict[str, torch.Tensor] = {}

    def on_attach(self) -> None:
        for t in self.targets:
            if not t.recurrent:
                raise InputError(
                    f"the balanced strategy builds recurrent topologies; {t.label} is not a "
                    "recurrent matrix (use scope 'recurrent' and model rnn, ctrnn, gru or lstm)"
                )
            rows, h = t.shape
            m = n_keep(h * h, self.target_sparsity)
            if m > h * (h - 1):
                raise InputError(
                    f"sparsity {self.target_sparsity} leaves {m} edges, more than the "
                    f"{h * (h - 1)} possible without self-loops; use a higher sparsity"
                )
            src, dst, sign = random_signed_digraph(
                h, m, self.rng, p_positive=self.p_positive, dale=self.dale
            )
            res = anneal_balance(
                src, dst, sign, h, self.target_balance, self.rng, max_iters=self.max_iters
            )
            self.results[t.label] = res
            a = self.init_scale if self.init_scale is not None else 1.0 / np.sqrt(h)
            keep = torch.zeros(t.shape, dtype=torch.bool)
            init = torch.zeros(t.shape)
            for block in range(rows // h):
                mag = torch.rand(m, generator=self.generator) * a
                r = torch.as_tensor(block * h + res.dst)  # torch row = target
                c = torch.as_tensor(res.src)
                keep[r, c] = True
                init[r, c] = torch.as_tensor(res.sign, dtype=torch.float32) * mag
            with torch.no_grad():
                orig_of(t).copy_(init)
            set_mask(t, keep)
            self.signs[t.label] = torch.sign(init).to(orig_of(t).device)

    def after_step(self, step: int) -> None:
        if not self.fix_signs:
            return
        for t in self.targets:
            sign = self.signs[t.label]
            orig = orig_of(t)
            with torch.no_grad():  # project every present weight back onto its annealed sign
                orig.copy_(sign * (sign * orig).clamp_min(SIGN_FLOOR))
            refresh(t)
