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

Similar starts (Liu et al. 2020, Figure 4): with ``topology_seed`` the start mask is drawn from
that seed instead of the run's, then perturbed ``perturb_steps`` times, each step moving
``perturb_fraction`` (default 1 %) of the present connections to random empty positions. The
random draws of step k do not depend on the number of steps, so the start of run i + 1 is the
start of run i perturbed once more: a chain of networks each 1 % away from the previous one.
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


def perturb_mask(keep: torch.Tensor, fraction: float, generator: torch.Generator) -> torch.Tensor:
    """Move ``round(fraction * present)`` present connections to random empty positions."""
    flat = keep.reshape(-1).clone()
    present = torch.nonzero(flat).reshape(-1)
    empty = torch.nonzero(~flat).reshape(-1)
    k = min(round(fraction * present.numel()), empty.numel())
    if k:
        out = present[torch.randperm(present.numel(), generator=generator)[:k]]
        into = empty[torch.randperm(empty.numel(), generator=generator)[:k]]
        flat[out] = False
        flat[into] = True
    return flat.reshape(keep.shape)


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
    """SET with options ``zeta`` (default 0.3; 0 gives a static sparse network), ``eps``
    (default None: density = 1 - sparsity), ``regrow_std`` (default 0.01), ``topology_seed``,
    ``perturb_steps`` and ``perturb_fraction`` (similar starts, module docstring). Sparsity is
    constant from the first step."""

    name = "set"

    def __init__(
        self, sparsity: float, *, seed: int = 0, granularity: str = "layer",
        zeta: float = 0.3, eps: float | None = None, regrow_std: float = 0.01,
        topology_seed: int | None = None, perturb_steps: int = 0, perturb_fraction: float = 0.01,
    ) -> None:
        super().__init__(sparsity, seed=seed, granularity=granularity)
        if not 0.0 <= zeta < 1.0:
            raise InputError(f"SET zeta must be in [0, 1), got {zeta}")
        if eps is not None and eps <= 0:
            raise InputError(f"SET eps must be positive, got {eps}")
        if perturb_steps < 0 or not 0.0 <= perturb_fraction <= 1.0:
            raise InputError("SET perturb_steps must be >= 0 and perturb_fraction in [0, 1], "
                             f"got {perturb_steps} and {perturb_fraction}")
        self.zeta, self.eps, self.regrow_std = zeta, eps, regrow_std
        self.topology_seed, self.perturb_steps = topology_seed, perturb_steps
        self.perturb_fraction = perturb_fraction
        self.last_removed: dict[str, torch.Tensor] = {}
        self.last_regrown: dict[str, torch.Tensor] = {}

    def on_attach(self) -> None:
        for i, t in enumerate(self.targets):
            rows, cols = t.shape
            n = t.numel
            if self.eps is not None:
                # torch stores (out, in): n_in = cols, n_out = rows
                count = round(erdos_renyi_density(cols, rows, self.eps) * n)
            else:
                count = n_keep(n, self.target_sparsity)
            if self.topology_seed is None:
                set_mask(t, random_mask(t.shape, count, self.generator))
                continue
            # one generator per matrix and per step, so that a chain of k steps is a prefix of
            # every longer chain from the same topology_seed
            base = self.topology_seed * 1_000_003 + i * 10_007
            keep = random_mask(t.shape, count, torch.Generator().manual_seed(base))
            for k in range(self.perturb_steps):
                keep = perturb_mask(keep, self.perturb_fraction,
                                    torch.Generator().manual_seed(base + k + 1))
            set_mask(t, keep)

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
        grow = torch.zeros(present.numel(), dtype=torch.bool, device=present.device)
        grow[chosen] = True
        grow = grow.reshape(present.shape)
        with torch.no_grad():
            fresh = torch.randn(n_remove, generator=self.generator) * self.regrow_std
            orig.view(-1)[chosen] = fresh.to(device=orig.device, dtype=orig.dtype)
        set_mask(target, (present & ~remove) | grow)
        self.last_removed[target.label] = remove
        self.last_regrown[target.label] = grow
        refresh(target)

    def on_epoch_end(self, epoch: int) -> None:
        if epoch >= self.plan.epochs:
            return  # no regrowth after the last epoch: the final network keeps trained weights
        for t in self.targets:
            self.evolve(t)
