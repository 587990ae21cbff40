"""Schedules hit their targets exactly: edge counts recomputed from the formulas by hand."""

import math
from fractions import Fraction

import pytest

from tests.support.extras import requires

torch = requires("torch")

from torch import nn

from sparsetopo.errors import InputError
from sparsetopo.training.models import Target
from sparsetopo.training.sparsify import TrainingPlan, build_strategy
from sparsetopo.training.sparsify.schedules import (
    cubic_density,
    iterative_events,
    n_keep,
    n_pruned,
    narang_threshold,
    zahn_levels,
)


def _targets(*shapes: tuple[int, int], seed: int = 0) -> list[Target]:
    torch.manual_seed(seed)
    return [Target(nn.Linear(c, r), "weight", f"l{i}.weight") for i, (r, c) in enumerate(shapes)]


def _weight(t: Target) -> torch.Tensor:
    w: torch.Tensor = getattr(t.module, t.name)
    return w


def _edges(t: Target) -> int:
    return int(torch.count_nonzero(_weight(t)))


def test_rounding_is_half_up_and_robust_to_float_error() -> None:
    assert n_pruned(100, 0.29) == 29  # 0.29 * 100 = 28.999999999999996
    assert n_keep(4096, 0.9) == 410  # 3686.4 pruned -> 3686
    assert n_pruned(10, 0.25) == 3  # 2.5 rounds up
    assert n_keep(7, 0.0) == 7


def test_cubic_density_hand_values() -> None:
    assert cubic_density(0, 30, 0.1) == 1.0
    assert cubic_density(15, 30, 0.1) == pytest.approx(0.1 + 0.9 / 8)
    assert cubic_density(30, 30, 0.1) == pytest.approx(0.1)
    assert cubic_density(45, 30, 0.1) == pytest.approx(0.1)


def test_zahn_levels() -> None:
    assert zahn_levels(0.9) == [0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.9]
    assert zahn_levels(0.5) == [0.15, 0.25, 0.35, 0.45, 0.5]
    full = zahn_levels(0.99)
    assert full[-11:] == [0.85, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99]
    assert len(full) == 18


def test_gradual_edge_counts_every_step() -> None:
    targets = _targets((30, 20), (10, 30))
    strat = build_strategy("gradual", 0.9, options={"prune_every": 5})
    strat.attach(targets, TrainingPlan(epochs=4, steps_per_epoch=10, lr=1e-3))
    # sparsity of the last prune, recomputed exactly (rationals) from Zhu & Gupta; exact
    # arithmetic matters: at step 5, s * 600 is exactly 227.5, which rounds half up to 228
    applied = Fraction(0)
    for step in range(1, 41):
        strat.after_step(step)
        if step <= 30 and (step % 5 == 0 or step == 30):
            d_f = Fraction(1, 10)
            applied = 1 - (d_f + (1 - d_f) * (1 - Fraction(step, 30)) ** 3)
        for t in targets:
            n = t.numel
            assert _edges(t) == n - math.floor(applied * n + Fraction(1, 2)), (step, t.label)
    assert [_edges(t) for t in targets] == [60, 30]


def test_gradual_global_counts_and_magnitude_order() -> None:
    targets = _targets((30, 20), (10, 30))
    before = [_weight(t).detach().abs().clone() for t in targets]
    strat = build_strategy("gradual", 0.8, options={"granularity": "global", "end": 0.5})
    strat.attach(targets, TrainingPlan(epochs=2, steps_per_epoch=4, lr=1e-3))
    for step in range(1, 9):
        strat.after_step(step)
    assert sum(_edges(t) for t in targets) == 900 - 720
    kept = torch.cat([b[_weight(t) != 0] for b, t in zip(before, targets, strict=True)])
    dropped = torch.cat([b[_weight(t) == 0] for b, t in zip(before, targets, strict=True)])
    assert kept.min() >= dropped.max()


def test_iterative_zahn_events() -> None:
    assert iterative_events([0.5, 0.9], 3) == {1: 0.5, 2: 0.9}
    assert iterative_events([0.15, 0.25, 0.5], 2) == {1: 0.5}  # 3 levels in 2 epochs: highest wins
    targets = _targets((40, 25))
    strat = build_strategy("iterative", 0.9)
    strat.attach(targets, TrainingPlan(epochs=20, steps_per_epoch=1, lr=1e-3))
    expected = {2 * k: lv for k, lv in enumerate(
        [0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.9], start=1)}
    current = 1000
    for epoch in range(1, 21):
        strat.on_epoch_end(epoch)
        if epoch in expected:
            current = 1000 - round(expected[epoch] * 1000)
        assert _edges(targets[0]) == current, epoch
    assert current == 100


def test_one_shot_prunes_once_at_the_chosen_epoch() -> None:
    targets = _targets((16, 16))
    strat = build_strategy("magnitude", 0.75)
    strat.attach(targets, TrainingPlan(epochs=6, steps_per_epoch=1, lr=1e-3))
    counts = []
    for epoch in range(1, 7):
        strat.on_epoch_end(epoch)
        counts.append(_edges(targets[0]))
    assert counts == [256, 256, 64, 64, 64, 64]


def test_narang_threshold_hand_values() -> None:
    # theta = 2 q freq / (2 (ramp - start) + 3 (end - ramp)) = 2 / 50, phi = 1.5 theta
    assert narang_threshold(0, 0, 10, 20, 1, 1.0) == pytest.approx(0.04)
    assert narang_threshold(9, 0, 10, 20, 1, 1.0) == pytest.approx(0.4)
    assert narang_threshold(10, 0, 10, 20, 1, 1.0) == pytest.approx(0.04 * 11 + 0.06)
    assert narang_threshold(19, 0, 10, 20, 1, 1.0) == pytest.approx(0.44 + 0.6)
    assert narang_threshold(-1, 0, 10, 20, 1, 1.0) == 0.0
    with pytest.raises(InputError):
        narang_threshold(0, 5, 1, 20, 1, 1.0)


def test_narang_is_monotone_and_lands_on_target() -> None:
    targets = _targets((30, 30))
    strat = build_strategy("narang", 0.9, options={"prune_every": 2})
    strat.attach(targets, TrainingPlan(epochs=10, steps_per_epoch=10, lr=1e-3))
    last = 900
    for step in range(1, 101):
        strat.after_step(step)
        now = _edges(targets[0])
        assert now <= last
        assert now >= 90
        last = now
    assert last == 90
