"""The strategy interface and mask helpers shared by every sparsification strategy.

Masks live where torch.nn.utils.prune puts them: ``<name>_orig`` is the trainable parameter,
``<name>_mask`` a buffer, and ``<name>`` (recomputed before each forward) is their product. A
strategy only ever edits the mask buffer and, when it regrows a connection, the ``_orig`` entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.utils import prune

from sparsetopo.training.models import Target
from sparsetopo.training.sparsify.schedules import check_sparsity, n_keep


@dataclass(frozen=True)
class TrainingPlan:
    """What a strategy needs to know about the training run it is attached to."""

    epochs: int
    steps_per_epoch: int
    lr: float

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch


def ensure_mask(target: Target) -> None:
    """Give ``target`` a prune mask (all ones) if it has none yet."""
    if not hasattr(target.module, target.name + "_mask"):
        prune.identity(target.module, target.name)


def mask_of(target: Target) -> torch.Tensor:
    mask: torch.Tensor = getattr(target.module, target.name + "_mask")
    return mask


def orig_of(target: Target) -> torch.nn.Parameter:
    orig: torch.nn.Parameter = getattr(target.module, target.name + "_orig")
    return orig


def refresh(target: Target) -> None:
    """Recompute ``module.<name> = orig * mask`` now, so readers between forwards (the recorder)
    see the current weights rather than those of the last forward pass."""
    with torch.no_grad():
        setattr(target.module, target.name, orig_of(target) * mask_of(target))


def set_mask(target: Target, keep: torch.Tensor) -> None:
    with torch.no_grad():
        mask_of(target).copy_(keep.to(mask_of(target).dtype))
    refresh(target)


def active(target: Target) -> torch.Tensor:
    """Boolean matrix of the connections currently present."""
    return mask_of(target) != 0


def top_k_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the ``k`` largest scores; ties broken by position (stable), so the result
    does not depend on the sort implementation."""
    flat = scores.reshape(-1)
    keep = torch.zeros_like(flat, dtype=torch.bool)
    if k > 0:
        order = torch.argsort(flat, descending=True, stable=True)
        keep[order[:k]] = True
    return keep.reshape(scores.shape)


def magnitude_scores(target: Target) -> torch.Tensor:
    """|w| for present connections, -1 for absent ones (so pruning is monotone: an absent
    connection is never selected while a present one is available)."""
    with torch.no_grad():
        mag = orig_of(target).detach().abs()
        return torch.where(active(target), mag, torch.full_like(mag, -1.0))


def prune_to(targets: list[Target], sparsity: float, granularity: str = "layer") -> None:
    """Magnitude-prune ``targets`` to exactly ``sparsity``.

    ``layer``: every matrix keeps ``n_keep(numel, s)`` of its largest |w|; ``global``: the
    matrices together keep ``n_keep(total, s)`` of their largest |w|.
    """
    if granularity == "layer":
        for t in targets:
            set_mask(t, top_k_mask(magnitude_scores(t), n_keep(t.numel, sparsity)))
        return
    scores = [magnitude_scores(t).reshape(-1) for t in targets]
    total = sum(s.numel() for s in scores)
    keep = top_k_mask(torch.cat(scores), n_keep(total, sparsity))
    offset = 0
    for t, s in zip(targets, scores, strict=True):
        set_mask(t, keep[offset : offset + s.numel()].reshape(t.shape))
        offset += s.numel()


class Strategy:
    """Base class: a dense run (no sparsification). Subclasses override the hooks.

    Hooks, called by the training loop: :meth:`attach` once before training,
    :meth:`penalty` after each forward pass (added to the loss), :meth:`after_step` after every
    optimizer step (``step`` counts optimizer steps from 1), :meth:`on_epoch_end` after every
    epoch (``epoch`` counts completed epochs from 1).
    """

    name = "dense"
    granularities = ("layer", "global")

    def __init__(self, sparsity: float, *, seed: int = 0, granularity: str = "layer") -> None:
        from sparsetopo.training.models import check_name

        self.target_sparsity = check_sparsity(sparsity)
        self.granularity = check_name("granularity", granularity, self.granularities)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)
        self.targets: list[Target] = []
        self.plan = TrainingPlan(epochs=1, steps_per_epoch=1, lr=1e-3)

    def attach(self, targets: list[Target], plan: TrainingPlan) -> None:
        self.targets = list(targets)
        self.plan = plan
        for t in self.targets:
            ensure_mask(t)
        self.on_attach()

    def on_attach(self) -> None:
        """Set up masks before the first step (SET, Deep R, balanced start sparse)."""

    def penalty(self) -> torch.Tensor | None:
        return None

    def after_step(self, step: int) -> None:
        """Called after optimizer step ``step`` (1-based)."""

    def on_epoch_end(self, epoch: int) -> None:
        """Called after ``epoch`` epochs have completed (1-based)."""

    def n_edges(self) -> int:
        return int(sum(int(active(t).sum()) for t in self.targets))

    def n_weights(self) -> int:
        return int(sum(t.numel for t in self.targets))

    def sparsity(self) -> float:
        n = self.n_weights()
        return 0.0 if n == 0 else 1.0 - self.n_edges() / n

    def masks(self) -> dict[str, np.ndarray]:
        """Current boolean masks by parameter label (PyTorch orientation, (out, in))."""
        return {t.label: active(t).cpu().numpy().copy() for t in self.targets}
