"""Sparsification strategies, composable with any torch model (masks via torch.nn.utils.prune).

Registry names: magnitude, iterative, gradual, narang, set, deepr, moduli, balanced (and dense,
no sparsification). :func:`build_strategy` instantiates one with its options.
"""

from __future__ import annotations

import inspect
from typing import Any

from sparsetopo.errors import InputError
from sparsetopo.training.models import check_name
from sparsetopo.training.sparsify.balanced import BalancedTopology
from sparsetopo.training.sparsify.base import Strategy, TrainingPlan
from sparsetopo.training.sparsify.deepr import DeepR
from sparsetopo.training.sparsify.magnitude import (
    GradualMagnitude,
    IterativeMagnitude,
    NarangThreshold,
    OneShotMagnitude,
)
from sparsetopo.training.sparsify.moduli import ModuliRegularisation
from sparsetopo.training.sparsify.set_evolution import SET

STRATEGIES: dict[str, type[Strategy]] = {
    "magnitude": OneShotMagnitude,
    "iterative": IterativeMagnitude,
    "gradual": GradualMagnitude,
    "narang": NarangThreshold,
    "set": SET,
    "deepr": DeepR,
    "moduli": ModuliRegularisation,
    "balanced": BalancedTopology,
    "dense": Strategy,
}
STRATEGY_NAMES = tuple(STRATEGIES)


def strategy_options(name: str) -> dict[str, Any]:
    """The options strategy ``name`` accepts, with their defaults."""
    cls = STRATEGIES[check_name("strategy", name, STRATEGY_NAMES)]
    params = inspect.signature(cls.__init__).parameters
    return {
        p.name: p.default for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def build_strategy(
    name: str, sparsity: float, *, seed: int = 0, options: dict[str, Any] | None = None
) -> Strategy:
    """Instantiate strategy ``name`` at target ``sparsity`` with keyword ``options``."""
    cls = STRATEGIES[check_name("strategy", name, STRATEGY_NAMES)]
    opts = dict(options or {})
    valid = strategy_options(name)
    unknown = sorted(set(opts) - set(valid) - {"seed"})
    if unknown:
        raise InputError(
            f"unknown option(s) {', '.join(unknown)} for strategy {name!r}; it accepts: "
            f"{', '.join(k for k in valid if k != 'seed')}"
        )
    opts["seed"] = seed
    return cls(sparsity, **opts)


__all__ = [
    "STRATEGIES",
    "STRATEGY_NAMES",
    "Strategy",
    "TrainingPlan",
    "build_strategy",
    "strategy_options",
]
