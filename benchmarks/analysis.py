"""Benchmark of sparsetopo.analysis against networkx and igraph (ratios from one run).

    python benchmarks/analysis.py            # full sizes of issue 4
    python benchmarks/analysis.py --quick    # smaller sizes, same code paths

networkx.triadic_census needs ~60 s at n=1000, m=1e5, so it is timed on a smaller graph
(n=1000, m=1e4; --full-networkx runs it on the full graph) and ours is timed on that same graph for
the ratio. Every result row is checked for equality with the baseline when a baseline runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import igraph
import networkx as nx
import numpy as np
import scipy.sparse as sp

from sparsetopo.analysis import (
    LayeredGraph,
    SignedGraph,
    edge_overlap,
    ffl_balance,
    layered_motifs,
    motif_zscores,
    nnstd,
    triad_census,
)

ROWS: list[tuple[str, float, float | None, float | None, str]] = []


def timeit(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def graph(n: int, m: int, seed: int) -> SignedGraph:
    rng = np.random.default_rng(seed)
    keys = rng.choice(n * n, size=m, replace=False)
    s, d = keys // n, keys % n
    ok = s != d
    return SignedGraph.from_edges(s[ok], d[ok], rng.standard_normal(int(ok.sum())), n_nodes=n)


def bench_triads(n: int, m: int, nx_m: int, full_nx: bool) -> None:
    g = graph(n, m, 0)
    s, d, _ = g.edges()
    t_ours, ours = timeit(lambda: triad_census(g))
    ig = igraph.Graph(n=n, edges=np.stack([s, d], 1).tolist(), directed=True)
    t_ig, ref = timeit(lambda: ig.triad_census(), repeat=1)
    assert list(ours.values()) == [int(x) for x in ref]
    t_nx = None
    if full_nx:
        G = nx.DiGraph(list(zip(s.tolist(), d.tolist(), strict=True)))
        G.add_nodes_from(range(n))
        t_nx, refnx = timeit(lambda: nx.triadic_census(G), repeat=1)
        assert refnx == ours
    ROWS.append((f"triad census n={n} m={g.n_edges}", t_ours, t_nx, t_ig, "counts equal"))
    t_f, _ = timeit(lambda: ffl_balance(g))
    ROWS.append((f"census + signed FFL balance n={n} m={g.n_edges}", t_f, None, None, ""))
    if not full_nx and nx_m:
        h = graph(n, nx_m, 1)
        hs, hd, _ = h.edges()
        G = nx.DiGraph(list(zip(hs.tolist(), hd.tolist(), strict=True)))
        G.add_nodes_from(range(n))
        t_o, o = timeit(lambda: triad_census(h))
        t_nx, refnx = timeit(lambda: nx.triadic_census(G), repeat=1)
        igh = igraph.Graph(n=n, edges=np.stack([hs, hd], 1).tolist(), directed=True)
        t_igh, _ = timeit(lambda: igh.triad_census(), repeat=1)
        assert refnx == o
        ROWS.append((f"triad census n={n} m={h.n_edges} (networkx size)", t_o, t_nx, t_igh, "counts equal"))


def bench_layered(sizes: list[int], edges: int) -> None:
    rng = np.random.default_rng(2)
    tot = sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
    mats = [
        sp.random(sizes[i], sizes[i + 1], density=edges / tot, format="csr", random_state=i,
                  data_rvs=rng.standard_normal)
        for i in range(len(sizes) - 1)
    ]  # fmt: skip
    lg = LayeredGraph.from_matrices(mats)
    t_u, _ = timeit(lambda: layered_motifs(lg, signed=False))
    t_s, _ = timeit(lambda: layered_motifs(lg, signed=True))
    name = "-".join(map(str, sizes))
    ROWS.append((f"layered census {name} ({lg.n_edges} edges), unsigned", t_u, None, None, ""))
    ROWS.append((f"layered census {name} ({lg.n_edges} edges), + signed", t_s, None, None, ""))


def bench_nnstd(n: int, density: float) -> None:
    def net(seed: int) -> LayeredGraph:
        return LayeredGraph.from_matrices(
            [sp.random(n, n, density=density, format="csr", random_state=seed * 10 + i) for i in range(3)]
        )

    a, b = net(1), net(2)
    t, _ = timeit(lambda: nnstd(a, b))
    t_r, _ = timeit(lambda: nnstd(a, b, ties="robust"), repeat=1)
    ROWS.append((f"NNSTD {n}-{n}-{n}-{n} at {density:.0%}", t, None, None, "reference ties"))
    ROWS.append((f"NNSTD {n}-{n}-{n}-{n} at {density:.0%}, ties=robust", t_r, None, None, ""))


def bench_overlap(m: int) -> None:
    rng = np.random.default_rng(3)
    n = 4000
    k1 = rng.choice(n * n, m, replace=False)
    k2 = np.unique(np.concatenate([k1[: m * 6 // 10], rng.choice(n * n, m * 4 // 10, replace=False)]))
    a = SignedGraph.from_edges(k1 // n, k1 % n, rng.standard_normal(len(k1)), n)
    b = SignedGraph.from_edges(k2 // n, k2 % n, rng.standard_normal(len(k2)), n)
    t, r = timeit(lambda: edge_overlap(a, b), repeat=5)
    t_np, ref = timeit(lambda: np.intersect1d(k1, k2, assume_unique=True), repeat=3)
    assert r.shared == len(ref)
    ROWS.append((f"edge overlap of two {m:.0e}-edge snapshots", t, None, None,
                 f"numpy intersect1d {t_np * 1e3:.1f} ms"))  # fmt: skip


def bench_zscores(n_samples_small: int, n_samples_big: int, big_m: int) -> None:
    from pathlib import Path

    import pandas as pd

    csv = Path(__file__).resolve().parents[1] / "tests/data/zhang2023-sparse-rnn/MNIST/pruning_n_150_p_0.05/edge_list_weighted_200.csv"
    df = pd.read_csv(csv)
    g = SignedGraph.from_edges(df["Source"].to_numpy(), df["Target"].to_numpy(), df["Weight"].to_numpy(), 150)
    t1, _ = timeit(lambda: motif_zscores(g, "triads", null="switching", n=n_samples_small, seed=0), repeat=1)
    ROWS.append((f"Z-scores, {n_samples_small} switching samples, triad census each (150 nodes, {g.n_edges} edges)", t1, None, None, ""))
    t2, _ = timeit(lambda: motif_zscores(g, ["triads", "ffl_balance"], null="switching", n=n_samples_small, seed=0), repeat=1)
    ROWS.append((f"Z-scores, {n_samples_small} switching samples, census + FFL balance each", t2, None, None, ""))
    big = graph(1000, big_m, 4)
    t3, _ = timeit(lambda: motif_zscores(big, "triads", null="switching", n=n_samples_big, seed=0), repeat=1)
    ROWS.append((f"Z-scores, {n_samples_big} switching samples of a {big.n_edges}-edge graph", t3, None, None, ""))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--full-networkx", action="store_true", help="networkx on the full graph (~60 s)")
    args = ap.parse_args()
    q = args.quick
    bench_triads(1000, 100_000 if not q else 20_000, 10_000 if not q else 5_000, args.full_networkx)
    if not q:
        bench_triads(1024, 900_000, 0, False)
    bench_layered([784, 1000, 1000, 1000, 10], 100_000)
    bench_nnstd(784, 0.01)
    bench_overlap(1_000_000 if not q else 200_000)
    bench_zscores(1000 if not q else 100, 100 if not q else 10, 100_000 if not q else 20_000)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"{'benchmark':<86} {'ours':>10} {'networkx':>10} {'igraph':>10} {'nx/ours':>8} {'ig/ours':>8}  note")
    for name, t, tnx, tig, note in ROWS:
        f = lambda x: f"{x:10.4f}" if x is not None else f"{'-':>10}"  # noqa: E731
        r = lambda x, t=t: f"{x / t:8.1f}" if x is not None else f"{'-':>8}"  # noqa: E731
        print(f"{name:<86} {f(t)} {f(tnx)} {f(tig)} {r(tnx)} {r(tig)}  {note}")


if __name__ == "__main__":
    main()
