"""What every paper module provides, and the context its claims are computed in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sparsetopo.errors import InputError
from sparsetopo.reproduce.report import Claim
from sparsetopo.reproduce.runner import Runner, RunSpec

MODES = ("tiny", "quick", "full")


@dataclass
class Context:
    """The store, the runs and the settings a paper's claims are computed from."""

    store: Any
    runner: Runner
    prefix: str
    mode: str
    seeds: list[int]
    specs: list[RunSpec]
    extra: dict[str, Any] = field(default_factory=dict)
    data_dir: str | None = None

    def name(self, paper: str, condition: str, seed: int) -> str:
        return f"{self.prefix}-{paper}-{condition}-s{seed}"

    def history(self, paper: str, condition: str, seed: int) -> pd.DataFrame:
        """The stored history of one run (indexed by step)."""
        return self.store.history(self.name(paper, condition, seed))  # type: ignore[no-any-return]

    def last(self, paper: str, condition: str, key: str) -> list[float]:
        """The last stored value of ``key`` per seed."""
        out = []
        for s in self.seeds:
            h = self.history(paper, condition, s)
            out.append(float(h[key].dropna().iloc[-1]) if key in h and h[key].notna().any()
                       else float("nan"))
        return out


class Paper:
    """A paper's reproduction: the runs to train and the claims computed from them."""

    name = ""
    title = ""
    default_seeds: ClassVar[dict[str, int]] = {"tiny": 2, "quick": 3, "full": 5}

    def runs(self, mode: str, seeds: Sequence[int], data_dir: str | None = None) -> list[RunSpec]:
        """The runs of ``mode``; ``data_dir`` may hold the paper's real dataset (full mode)."""
        raise NotImplementedError

    def claims(self, ctx: Context) -> list[Claim]:
        raise NotImplementedError

    def scale(self, mode: str) -> str:
        """One sentence on the sizes used in ``mode`` compared with the paper's."""
        return ""

    def sources(self) -> list[str]:
        """Where the paper's numbers quoted in the report come from (with the file)."""
        return []

    def not_covered(self, mode: str) -> list[str]:
        """What of the paper this reproduction does not test."""
        return []

    def data_note(self, mode: str, data_dir: str | None) -> str | None:
        """A line saying which dataset the runs use (None: nothing to say)."""
        return None

    def extra_seconds(self, mode: str, n_seeds: int) -> float:
        """Estimated seconds of work outside the runs (derived runs, null models, figures)."""
        return 5.0


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    return mode


def prefix_query(text: str, prefix: str) -> str:
    """A parameterised Cypher query with its ``:param`` line for Neo4j Browser."""
    return f":param prefix => '{prefix}';\n{text}"


def band(ax: Any, x: np.ndarray, ys: list[np.ndarray], label: str, color: str | None = None) -> None:
    """Mean line with a +-1 sd band over seeds."""
    m = np.vstack(ys)
    mean = np.nanmean(m, axis=0)
    sd = np.nanstd(m, axis=0)
    line = ax.plot(x, mean, label=label, color=color)[0]
    ax.fill_between(x, mean - sd, mean + sd, color=line.get_color(), alpha=0.2)
