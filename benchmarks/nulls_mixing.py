"""Autocorrelation of motif counts along the switching chain (docs/analysis.md, "Mixing").

    python benchmarks/nulls_mixing.py [--dense]

For three bundled Zhang et al. 2023 snapshots, 3000 census samples 0.1 proposals per edge apart
(after 10 per edge of burn-in); prints the autocorrelation of a few triad counts and of the FFL
balance at lags of 0.1, 0.2, 0.5, 1 and 2 proposals per edge. With keep_mutual the samples are
the grid points at the start's mutual-dyad count, so a lag of k samples is k or more grid steps.
``--dense``: two snapshots denser than half the pairs (the chain proposes over the complement's
edges there, and "per edge" counts the complement's edges), each also with the proposals drawn
from the graph's own edges as before, for comparison.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sparsetopo.analysis.fastnull import census_families
from sparsetopo.analysis.nulls import switching_census_samples
from tests.support.graphs import load_zhang


def acf(x: np.ndarray, lags: list[int]) -> list[float]:
    x = x - x.mean()
    v = (x * x).mean()
    return [float((x[:-k] * x[k:]).mean() / v) if v > 0 else float("nan") for k in lags]


def main() -> None:
    import sparsetopo.analysis.nulls as nulls

    step = 0.1
    lags = [1, 2, 5, 10, 20]
    print("lags (proposals per edge):", [round(k * step, 1) for k in lags])
    if "--dense" in sys.argv:
        cases = [("prune10", load_zhang("pruning", 10), True), ("prune25", load_zhang("pruning", 25), True),
                 ("prune10", load_zhang("pruning", 10), False), ("prune25", load_zhang("pruning", 25), False)]  # fmt: skip
    else:
        cases = [("prune60", load_zhang("pruning", 60), True), ("prune100", load_zhang("pruning", 100), True),
                 ("SET200", load_zhang("SET", 200), True)]  # fmt: skip
    for name, g, complement in cases:
        nulls.COMPLEMENT_MAX_N = 2048 if complement else 0
        for km in (False, True):
            t = time.time()
            c = switching_census_samples(g, 3000, seed=1, keep_mutual=km, burn_in=10, thin=step)
            cols = census_families(["triads", "ffl_balance"], c)
            how = "complement proposals" if complement and 2 * g.n_edges > g.n_nodes**2 else "own edges"
            print(name, g.n_edges, "keep_mutual" if km else "plain", how, f"{time.time() - t:.1f}s")
            for k in ["030T", "021C", "030C", "201", "300", "ffl_unbalanced", "ffl_balance_pooled"]:
                print("   ", k, [round(a, 3) for a in acf(cols[k], lags)])


if __name__ == "__main__":
    main()
