"""Sparsity schedules as pure functions of the step, so tests can recompute every edge count.

Convention: ``density = 1 - sparsity``; a matrix with ``n`` entries at sparsity ``s`` keeps
``n_keep(n, s) = n - round_half_up(s * n)`` entries.
"""

from __future__ import annotations

import math

from sparsetopo.errors import InputError

#: Zahn, Daniel & Kutz 2024: iterative pruning levels 15, 25, ..., 85, 90, 91, ..., 99 %.
ZAHN_LEVELS: tuple[float, ...] = tuple(
    [round(0.15 + 0.10 * k, 2) for k in range(8)] + [round(0.90 + 0.01 * k, 2) for k in range(10)]
)


def check_sparsity(sparsity: float) -> float:
    s = float(sparsity)
    if not 0.0 <= s < 1.0 or math.isnan(s):
        raise InputError(
            f"sparsity must be in [0, 1) (the fraction of sparsified weights set to zero), got {s}"
        )
    return s


def n_pruned(n: int, sparsity: float) -> int:
    """Entries removed from ``n`` at ``sparsity``: round half up of ``sparsity * n``.

    A 1e-9 guard absorbs binary float error (0.29 * 100 = 28.999999999999996 -> 29).
    """
    return min(n, math.floor(sparsity * n + 0.5 + 1e-9))


def n_keep(n: int, sparsity: float) -> int:
    """Entries kept from ``n`` at ``sparsity``."""
    return n - n_pruned(n, sparsity)


def cubic_density(t: float, total: float, final_density: float) -> float:
    """Zhu & Gupta 2017 gradual pruning in density form: ``d_t = d_f + (1 - d_f)(1 - t/T)^3``.

    ``t`` is clipped to [0, T]: density 1 at t = 0, exactly ``d_f`` from t = T on.
    """
    if total <= 0:
        return final_density
    frac = min(max(t / total, 0.0), 1.0)
    return final_density + (1.0 - final_density) * (1.0 - frac) ** 3


def linear_sparsity(t: float, total: float, final_sparsity: float) -> float:
    """Linear ramp (Mackey et al. 2024): ``s_t = s_f * min(t / T, 1)``."""
    if total <= 0:
        return final_sparsity
    return final_sparsity * min(max(t / total, 0.0), 1.0)


def zahn_levels(target: float) -> list[float]:
    """Iterative pruning levels up to ``target``: the Zahn schedule below it, then ``target``."""
    target = check_sparsity(target)
    levels = [lv for lv in ZAHN_LEVELS if lv < target - 1e-9]
    if target > 0:
        levels.append(target)
    return levels


def iterative_events(levels: list[float], epochs: int) -> dict[int, float]:
    """When iterative pruning prunes: ``{completed epochs: sparsity}``.

    Training is split into ``len(levels) + 1`` equal phases (dense training, then a retraining
    phase after each prune). Level k (1-based) is applied after ``max(1, floor(k E / (L + 1)))``
    epochs; when epochs are fewer than levels several levels fall on one epoch and the highest wins.
    """
    events: dict[int, float] = {}
    n_levels = len(levels)
    for k, level in enumerate(levels, start=1):
        epoch = max(1, (k * epochs) // (n_levels + 1))
        events[epoch] = max(level, events.get(epoch, 0.0))
    return events


def narang_threshold(
    t: int, start: int, ramp: int, end: int, freq: int, q: float
) -> float:
    """Narang et al. 2017 ("Exploring sparsity in recurrent neural networks") threshold ramp.

    ``theta = 2 q freq / (2 (ramp - start) + 3 (end - ramp))``, ``phi = 1.5 theta``;
    for ``start <= t < ramp``: ``eps = theta (t - start + 1) / freq``;
    for ``ramp <= t < end``:  ``eps = (theta (ramp - start + 1) + phi (t - ramp + 1)) / freq``;
    0 before ``start``; the ``end`` value from then on. ``q`` is the weight magnitude at the target
    sparsity percentile, so the threshold reaches about ``q`` at ``end``.
    """
    if not start <= ramp <= end or freq < 1:
        raise InputError(
            f"Narang schedule needs start <= ramp <= end and freq >= 1 (got {start}, {ramp}, "
            f"{end}, {freq})"
        )
    denom = 2 * (ramp - start) + 3 * (end - ramp)
    if denom == 0:
        return q
    theta = 2.0 * q * freq / denom
    phi = 1.5 * theta
    if t < start:
        return 0.0
    t = min(t, end - 1) if end > start else start
    if t < ramp:
        return theta * (t - start + 1) / freq
    return (theta * (ramp - start + 1) + phi * (t - ramp + 1)) / freq
