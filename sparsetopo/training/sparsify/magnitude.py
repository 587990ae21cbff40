"""Magnitude pruning family: one-shot, iterative (Zahn et al. 2024), gradual (Zhu & Gupta 2017)
and the threshold ramp of Narang et al. 2017.

All four remove the smallest-|w| present connections and never regrow, so masks only shrink.
``granularity="layer"`` gives each matrix the scheduled sparsity; ``"global"`` ranks the
magnitudes of all sparsified matrices together.
"""

from __future__ import annotations

import torch

from sparsetopo.errors import InputError
from sparsetopo.training.sparsify.base import (
    Strategy,
    active,
    magnitude_scores,
    orig_of,
    prune_to,
    set_mask,
    top_k_mask,
)
from sparsetopo.training.sparsify.schedules import (
    check_sparsity,
    cubic_density,
    iterative_events,
    n_keep,
    n_pruned,
    narang_threshold,
    zahn_levels,
)


def _fraction_step(fraction: float, total: int, what: str) -> int:
    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"{what} must be a fraction of training in [0, 1], got {fraction}")
    return round(fraction * total)


class OneShotMagnitude(Strategy):
    """One-shot magnitude pruning: train, prune once to the target, fine-tune.

    Option ``at_epoch`` (default ``epochs // 2``, at least 1): prune after that many epochs;
    0 prunes the initial weights before training.
    """

    name = "magnitude"

    def __init__(
        self, sparsity: float, *, seed: int = 0, granularity: str = "layer",
        at_epoch: int | None = None,
    ) -> None:
        super().__init__(sparsity, seed=seed, granularity=granularity)
        self.at_epoch = at_epoch

    def on_attach(self) -> None:
        if self.at_epoch is None:
            self.at_epoch = max(1, self.plan.epochs // 2)
        if self.at_epoch == 0:
            prune_to(self.targets, self.target_sparsity, self.granularity)

    def on_epoch_end(self, epoch: int) -> None:
        if epoch == self.at_epoch:
            prune_to(self.targets, self.target_sparsity, self.granularity)


class IterativeMagnitude(Strategy):
    """Iterative prune-and-retrain (Zahn et al. 2024): levels 15, 25, ..., 85, 90, 91, ..., 99 %
    up to the target (see :func:`~sparsetopo.training.sparsify.schedules.zahn_levels`), applied at
    epoch ends spread evenly over training (:func:`~.schedules.iterative_events`).

    Option ``levels``: a custom increasing list of sparsities instead of the Zahn schedule.
    """

    name = "iterative"

    def __init__(
        self, sparsity: float, *, seed: int = 0, granularity: str = "layer",
        levels: list[float] | None = None,
    ) -> None:
        super().__init__(sparsity, seed=seed, granularity=granularity)
        if levels is None:
            self.levels = zahn_levels(self.target_sparsity)
        else:
            self.levels = [check_sparsity(lv) for lv in levels]
            if self.levels != sorted(self.levels):
                raise InputError(f"iterative levels must increase, got {levels}")
        self.events: dict[int, float] = {}

    def on_attach(self) -> None:
        self.events = iterative_events(self.levels, self.plan.epochs)

    def on_epoch_end(self, epoch: int) -> None:
        if epoch in self.events:
            prune_to(self.targets, self.events[epoch], self.granularity)


class GradualMagnitude(Strategy):
    """Gradual pruning with the Zhu & Gupta 2017 cubic schedule.

    Density ``d_t = d_f + (1 - d_f)(1 - (t - t0)/(t1 - t0))^3`` between steps ``t0 = start * T``
    and ``t1 = end * T`` (T = total optimizer steps), pruning every ``prune_every`` steps and at
    ``t1``; from ``t1`` on the network keeps exactly the target sparsity and only fine-tunes.
    Defaults: start 0, end 0.75, prune_every = a quarter epoch.
    """

    name = "gradual"

    def __init__(
        self, sparsity: float, *, seed: int = 0, granularity: str = "layer",
        start: float = 0.0, end: float = 0.75, prune_every: int | None = None,
    ) -> None:
        super().__init__(sparsity, seed=seed, granularity=granularity)
        self.start, self.end, self.prune_every = start, end, prune_every
        self.t0 = self.t1 = 0
        self.every = 1

    def on_attach(self) -> None:
        total = self.plan.total_steps
        self.t0 = _fraction_step(self.start, total, "start")
        self.t1 = max(self.t0 + 1, _fraction_step(self.end, total, "end"))
        every = self.prune_every or max(1, self.plan.steps_per_epoch // 4)
        if every < 1:
            raise InputError(f"prune_every must be >= 1 step, got {every}")
        self.every = every

    def sparsity_at(self, step: int) -> float:
        """Scheduled sparsity after optimizer step ``step``."""
        density = cubic_density(step - self.t0, self.t1 - self.t0, 1.0 - self.target_sparsity)
        return 1.0 - density

    def is_prune_step(self, step: int) -> bool:
        return self.t0 < step <= self.t1 and ((step - self.t0) % self.every == 0 or step == self.t1)

    def after_step(self, step: int) -> None:
        if self.is_prune_step(step):
            prune_to(self.targets, self.sparsity_at(step), self.granularity)


class NarangThreshold(Strategy):
    """Threshold-ramp pruning of Narang et al. 2017: every ``prune_every`` steps between
    ``start`` and ``end`` (fractions of training) connections with |w| below the threshold of
    :func:`~.schedules.narang_threshold` are removed; the slope changes at ``ramp``.

    ``q`` (the magnitude at the target percentile) is measured per matrix on the weights at
    ``start``. With ``enforce_target`` (default) a prune never goes below the target edge count and
    the last prune tops up to the exact target, because a fixed threshold lands near, not on, it.
    """

    name = "narang"

    def __init__(
        self, sparsity: float, *, seed: int = 0, granularity: str = "layer",
        start: float = 0.1, ramp: float = 0.4, end: float = 0.75,
        prune_every: int | None = None, enforce_target: bool = True,
    ) -> None:
        super().__init__(sparsity, seed=seed, granularity=granularity)
        if not start <= ramp <= end:
            raise InputError(f"narang needs start <= ramp <= end, got {start}, {ramp}, {end}")
        self.fractions = (start, ramp, end)
        self.prune_every = prune_every
        self.enforce_target = enforce_target
        self.q: list[float] = []
        self.start_step = self.ramp_step = self.end_step = 0
        self.every = 1

    def on_attach(self) -> None:
        total = self.plan.total_steps
        start, ramp, end = (_fraction_step(f, total, "narang fraction") for f in self.fractions)
        self.start_step, self.ramp_step, self.end_step = start, ramp, max(end, start + 1)
        self.every = self.prune_every or max(1, self.plan.steps_per_epoch // 4)

    def _measure_q(self) -> None:
        mags = [orig_of(t).detach().abs().reshape(-1) for t in self.targets]
        if self.granularity == "global":
            allm = torch.cat(mags).sort().values
            k = n_pruned(allm.numel(), self.target_sparsity)
            qv = float(allm[min(k, allm.numel() - 1)])
            self.q = [qv] * len(self.targets)
        else:
            self.q = []
            for m in mags:
                srt = m.sort().values
                k = n_pruned(srt.numel(), self.target_sparsity)
                self.q.append(float(srt[min(k, srt.numel() - 1)]))

    def threshold_at(self, step: int, index: int = 0) -> float:
        return narang_threshold(
            step, self.start_step, self.ramp_step, self.end_step, self.every, self.q[index]
        )

    def after_step(self, step: int) -> None:
        if step < self.start_step or step > self.end_step:
            return
        if not self.q:
            self._measure_q()
        if (step - self.start_step) % self.every != 0 and step != self.end_step:
            return
        for i, t in enumerate(self.targets):
            eps = self.threshold_at(step, i)
            keep = active(t) & (orig_of(t).detach().abs() >= eps)
            floor_keep = n_keep(t.numel, self.target_sparsity)
            if self.enforce_target and int(keep.sum()) < floor_keep:
                keep = top_k_mask(magnitude_scores(t), floor_keep)
            set_mask(t, keep)
        if step == self.end_step and self.enforce_target:
            prune_to(self.targets, self.target_sparsity, self.granularity)
