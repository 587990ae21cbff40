"""Z-scores of the bundled Zhang et al. 2023 runs under the switching null (keep_mutual False and
True) and the FFL-balance Z under the sign-shuffle null, computed with whatever sparsetopo is on
PYTHONPATH; run once with the pre-issue-16 code and once with the current code and compare:

    PYTHONPATH=<old checkout> python benchmarks/nulls_before_after.py --out old.json
    PYTHONPATH=.              python benchmarks/nulls_before_after.py --out new.json
    python benchmarks/nulls_before_after.py --compare old.json new.json
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "tests/data/zhang2023-sparse-rnn/MNIST"
RUNS = {"pruning": "pruning_n_150_p_0.05", "SET": "SET_n_150_p_0.05_zeta_0.2"}
EPOCHS = (50, 100, 150, 200)
STATS = ("030T", "030C", "021C", "120U", "120D", "300", "ffl_balance_pooled", "ffl_balance_paper")


def load(run: str, epoch: int):  # type: ignore[no-untyped-def]
    from sparsetopo.analysis import SignedGraph

    df = pd.read_csv(DATA / RUNS[run] / f"edge_list_weighted_{epoch}.csv")
    return SignedGraph.from_edges(df["Source"].to_numpy(), df["Target"].to_numpy(),
                                  df["Weight"].to_numpy(), n_nodes=150)  # fmt: skip


def compute(n: int) -> dict[str, float]:
    from sparsetopo.analysis import motif_zscores

    out: dict[str, float] = {}
    for run in RUNS:
        for ep in EPOCHS:
            g = load(run, ep)
            for km in (False, True):
                df = motif_zscores(g, ["triads", "ffl_balance"], null="switching", n=n, seed=ep,
                                   keep_mutual=km)  # fmt: skip
                for s in STATS:
                    out[f"{run}:{ep}:switching{'+mutual' if km else ''}:{s}"] = float(df.loc[s, "z"])
            df = motif_zscores(g, ["ffl_balance"], null="sign_shuffle", n=n, seed=ep)
            out[f"{run}:{ep}:sign_shuffle:ffl_balance_pooled"] = float(df.loc["ffl_balance_pooled", "z"])
    return out


def compare(old: dict[str, float], new: dict[str, float]) -> None:
    print("| run | epoch | null | statistic | Z before | Z after | change |")
    print("|---|---|---|---|---|---|---|")
    for k, v in old.items():
        run, ep, null, stat = k.split(":", 3)
        w = new.get(k, math.nan)
        print(f"| {run} | {ep} | {null} | {stat} | {v:.2f} | {w:.2f} | {w - v:+.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--compare", nargs=2)
    a = ap.parse_args()
    if a.compare:
        compare(json.loads(Path(a.compare[0]).read_text()), json.loads(Path(a.compare[1]).read_text()))
        return
    Path(a.out).write_text(json.dumps(compute(a.n), indent=1))


if __name__ == "__main__":
    main()
