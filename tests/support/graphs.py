"""Shared helpers for the analysis tests: random signed graphs and the zhang2023 fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sparsetopo.analysis import SignedGraph
from tests.support.data import ZHANG

DATA = ZHANG
RUNS = {"pruning": "pruning_n_150_p_0.05", "SET": "SET_n_150_p_0.05_zeta_0.2"}


def random_edges(
    n: int, m: int, seed: int, self_loops: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    keys = rng.choice(n * n, size=min(m, n * n), replace=False)
    s, d = keys // n, keys % n
    if not self_loops:
        ok = s != d
        s, d = s[ok], d[ok]
    w = rng.choice([-1.0, 1.0], size=len(s)) * rng.uniform(0.1, 2.0, size=len(s))
    return s, d, w


def random_graph(n: int, m: int, seed: int, self_loops: bool = False) -> SignedGraph:
    s, d, w = random_edges(n, m, seed, self_loops)
    return SignedGraph.from_edges(s, d, w, n_nodes=n)


def load_zhang(run: str, epoch: int) -> SignedGraph:
    df = pd.read_csv(DATA / RUNS[run] / f"edge_list_weighted_{epoch}.csv")
    return SignedGraph.from_edges(
        df["Source"].to_numpy(), df["Target"].to_numpy(), df["Weight"].to_numpy(), n_nodes=150
    )
