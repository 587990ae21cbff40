"""The first analysis on a machine, with the kernel cache cold and warm (issues 20 and 23).

    python benchmarks/first_analysis.py          # Z-scores of one Zhang et al. snapshot, n = 200
    python benchmarks/first_analysis.py --n 50

Each figure is a fresh interpreter analysing the same snapshot (the switching null with its
default families, as `sparsetopo analyze` does per snapshot). "cold" starts with an empty kernel
cache (a fresh ``NUMBA_CACHE_DIR``), so numba compiles every kernel the analysis needs; "warm"
runs again on the cache the cold run left; "warm, other clone" imports a copy of the package
from another folder (what a CI checkout or a second worktree sees) on that same cache. The
ratio cold / warm is what `scripts/setup.sh` saves the first analysis by compiling ahead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CODE = """
import json, time
t0 = time.perf_counter()
import pandas as pd
from sparsetopo.analysis import SignedGraph, motif_zscores
t1 = time.perf_counter()
df = pd.read_csv({csv!r})
g = SignedGraph.from_edges(df.Source.to_numpy(), df.Target.to_numpy(), df.Weight.to_numpy(),
                           n_nodes=150)
z = motif_zscores(g, null="switching", n={n}, seed=0)
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "analysis": t2 - t1, "z_030T": float(z.loc["030T", "z"])}}))
"""


def run(cache: Path, n: int, pythonpath: Path | None = None) -> tuple[float, dict[str, float]]:
    csv = ROOT / "tests/data/zhang2023-sparse-rnn/MNIST/pruning_n_150_p_0.05/edge_list_weighted_80.csv"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CODE.format(csv=str(csv), n=n)], env=env,
                         capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return time.perf_counter() - t, json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="null samples (default 200)")
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}, python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="sparsetopo-bench-") as tmp:
        cache = Path(tmp) / "numba"
        clone = Path(tmp) / "clone"
        shutil.copytree(ROOT / "sparsetopo", clone / "sparsetopo",
                        ignore=shutil.ignore_patterns("__pycache__"))
        rows = []
        for label, path in (("cold", None), ("warm", None), ("warm, other clone", clone)):
            wall, parts = run(cache, args.n, path)
            rows.append((label, wall, parts))
        z = {p["z_030T"] for _, _, p in rows}
        assert len(z) == 1, f"the three runs disagree: {z}"
    print(f"{'first analysis':<22} {'total s':>8} {'import s':>9} {'analysis s':>11}")
    for label, wall, parts in rows:
        print(f"{label:<22} {wall:8.1f} {parts['import']:9.1f} {parts['analysis']:11.1f}")
    print(f"cold / warm: {rows[0][1] / rows[1][1]:.0f}x; other clone / warm: "
          f"{rows[2][1] / rows[1][1]:.2f}x")


if __name__ == "__main__":
    main()
