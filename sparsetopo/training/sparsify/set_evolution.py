"""Sparse Evolutionary Training (SET; Mocanu et al. 2018, as used by Liu et al. 2020 and Zhang et
al. 2023).

Start: an Erdos-Renyi mask per matrix with density ``P = eps (n_in + n_out) / (n_in n_out)``
(option ``eps``) or, by default, ``P = 1 - sparsity``. The mask has exactly
``round(P * n_in * n_out)`` connections at uniformly random positions (the fixed-count G(n, M)
form of Erdos-Renyi, so the edge count is exact).

After every epoch but the last, per matrix: with ``n+`` present positive and ``n-`` present
negative weights, remove the ``floor(zeta n+)`` smallest positive and the ``floor(zeta n-)``
largest negative (closest to zero) weights, then regrow as many connections at uniformly random
positions that were empty before the removal, each with a fresh weight ``N(0, regrow_std^2)``.
The edge count is therefore constant.
"""

from __future__ import annotations

import torch

from sparsetopo.errors import InputError
from sparsetopo.training.models import Target
from sparsetopo.training.sparsify.base import Strategy, active, orig_of, refresh, set_mask
from sparsetopo.training.sparsify.schedules import n_keep


def erdos_renyi_density(n_in: int, n_out: int, eps: float) -> float:
    """SET's density ``eps (n_in + n_out) / (n_in n_out)``, capped at 1."""
    return min(1.0, eps * (n_in + n_out) / (n_in * n_out))


def random_mask(shape: tuple[int, int], n_edges: int, generator: torch.Generator) -> torch.Tensor:
    """Exactly ``n_edges`` True entries at uniformly random positions."""
    numel = shape[0] * shape[1]
    keep = torch.zeros(numel, dtype=torch.bool)
    keep[torch.randperm(numel, generator=generator)[:n_edges]] = True
    return keep.reshape(shape)


def set_removal(weights: torch.Tensor, present: torch.Tensor, zeta: float) -> torch.Tensor:
    """Boolean matrix of the connections SET removes: among present weights, the
    ``floor(zeta n+)`` smallest positive ones (w >= 0 counts as positive) and the
    ``floor(zeta n-)`` negative ones closest to zero. Ties broken by position."""
    flat_w = weights.reshape(-1)
    flat_p = present.reshape(-1)
    remove = torch.zeros_like(flat_p)
    pos = torch.nonzero(flat_p & (flat_w >= 0)).reshape(-1)
    neg = torch.nonzero(flat_p & (flat_w < 0)).reshape(-1)
    k_pos = int(zeta * pos.numel())
    k_neg = int(zeta * neg.numel())
    if k_pos:
        order = torch.argsort(flat_w[pos], stable=True)
        remove[pos[order[:k_pos]]] = True
    if k_neg:
        order = torch.argsort(flat_w[neg], descending=True, stable=True)
        remove[neg[order[:k_neg]]] = True
    return remove.reshape(weights.shape)


class SET(Strategy):
    """SET with options ``zeta`` (default 0.3), ``eps`` (default None: density = 1 - sparsity),
    ``regrow_std`` (default 0.01). Sparsity is constant from the first step."""

    name = "set"

    def __init__(
        self, sparsity: float, *, seed: int = 0, granularity: str = "layer",
        zeta: float = 0.3, eps: float | None = None, regrow_std: float = 0.01,
    ) -> None:
        super().__init__(sparsity, seed=seed, granularity=granularity)
        if not 0.0 <= zeta < 1.0:
            raise InputError(f"SET zeta must be in [0, 1), got {zeta}")
        if eps is not None and eps <= 0:
            raise InputError(f"SET eps must be positive, got {eps}")
        self.zeta, self.eps, self.regrow_std = zeta, eps, regrow_std
        self.last_removed: dict[str, torch.Tensor] = {}
        self.last_regrown: dict[str, torch.Tensor] = {}

    def on_attach(self) -> None:
        for t in self.targets:
            rows, cols = t.shape
            n = t.numel
            if self.eps is not None:
                # torch stores (out, in): n_in = cols, n_out = rows
                count = round(erdos_renyi_density(cols, rows, self.eps) * n)
            else:
                count = n_keep(n, self.target_sparsity)
            set_mask(t, random_mask(t.shape, count, self.generator))

    def evolve(self, target: Target) -> None:
        """One SET removal-and-regrowth round on ``target``."""
        present = active(target)
        orig = orig_of(target)
        remove = set_removal(orig.detach(), present, self.zeta)
        n_remove = int(remove.sum())
        empty = torch.nonzero(~present.reshape(-1)).reshape(-1)
        if empty.numel() < n_remove:  # very dense: allow regrowth at just-removed positions
            empty = torch.nonzero(~(present & ~remove).reshape(-1)).reshape(-1)
        chosen = empty[torch.randperm(empty.numel(), generator=self.generator)[:n_remove]]
        grow = torch.zeros(present.numel(), dtype=torch.bool)
        grow[chosen] = True
        grow = grow.reshape(present.shape)
        with torch.no_grad():
            fresh = torch.randn(n_remove, generator=self.generator) * self.regrow_std
            orig.view(-1)[chosen] = fresh.to(orig.dtype)
        set_mask(target, (present & ~remove) | grow)
        self.last_removed[target.label] = remove
        self.last_regrown[target.label] = grow
        refresh(target)

    def on_epoch_end(self, epoch: int) -> None:
        if epoch >= self.plan.epochs:
            return  # no regrowth after the last epoch: the final network keeps trained weights
        for t in self.targets:
            self.evolve(t)
