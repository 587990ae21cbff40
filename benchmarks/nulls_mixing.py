"""Autocorrelation of motif counts along the switching chain (docs/analysis.md, "Mixing").

    python benchmarks/nulls_mixing.py

For three bundled Zhang et al. 2023 snapshots, 3000 census samples 0.1 proposals per edge apart
(after 10 per edge of burn-in); prints the autocorrelation of a few triad counts and of the FFL
balance at lags of 0.1, 0.2, 0.5, 1 and 2 proposals per edge. With keep_mutual the samples are
the grid points at the start's mutual-dyad count, so a lag of k samples is k or more grid steps.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/unit/analysis"))
from analysis_helpers import load_zhang

from sparsetopo.analysis.fastnull import census_families
from sparsetopo.analysis.nulls import switching_census_samples


def acf(x: np.ndarray, lags: list[int]) -> list[float]:
    x = x - x.mean()
    v = (x * x).mean()
    return [float((x[:-k] * x[k:]).mean() / v) if v > 0 else float("nan") for k in lags]


def main() -> None:
    step = 0.1
    lags = [1, 2, 5, 10, 20]
    print("lags (proposals per edge):", [round(k * step, 1) for k in lags])
    for name, g in [("prune60", load_zhang("pruning", 60)), ("prune100", load_zhang("pruning", 100)),
                    ("SET200", load_zhang("SET", 200))]:  # fmt: skip
        for km in (False, True):
            t = time.time()
            c = switching_census_samples(g, 3000, seed=1, keep_mutual=km, burn_in=10, thin=step)
            cols = census_families(["triads", "ffl_balance"], c)
            print(name, g.n_edges, "keep_mutual" if km else "plain", f"{time.time() - t:.1f}s")
            for k in ["030T", "021C", "030C", "201", "300", "ffl_unbalanced", "ffl_balance_pooled"]:
                print("   ", k, [round(a, 3) for a in acf(cols[k], lags)])


if __name__ == "__main__":
    main()
