"""Benchmark of sparsetopo.analysis against networkx and igraph (ratios from one run).

    python benchmarks/analysis.py            # full sizes of issue 4
    python benchmarks/analysis.py --quick    # smaller sizes, same code paths
    python benchmarks/analysis.py --issue15 [--db] [--old-1000]
                                             # null models and analyze against the baseline code
                                             # (git archive of --baseline-ref), same run

networkx.triadic_census needs ~60 s at n=1000, m=1e5, so it is timed on a smaller graph
(n=1000, m=1e4; --full-networkx runs it on the full graph) and ours is timed on that same graph for
the ratio. Every result row is checked for equality with the baseline when a baseline runs.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
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


# ============================================================================ issue 15
# Each timed job runs in a fresh process, once with this checkout and once with the baseline code
# (`git archive` of --baseline-ref), so both pay the same start-up (imports, numba cache load).
ZHANG = Path(__file__).resolve().parents[1] / "tests/data/zhang2023-sparse-rnn/MNIST/pruning_n_150_p_0.05"


def _zhang_graphs() -> list[SignedGraph]:
    import pandas as pd

    out = []
    for ep in range(0, 201, 5):
        df = pd.read_csv(ZHANG / f"edge_list_weighted_{ep}.csv")
        out.append(SignedGraph.from_edges(df["Source"].to_numpy(), df["Target"].to_numpy(),
                                          df["Weight"].to_numpy(), 150))  # fmt: skip
    return out


def job(name: str, arg: int) -> dict[str, Any]:
    """One timed job (run by ``--job NAME ARG`` in a child process)."""
    from threadpoolctl import threadpool_limits

    out: dict[str, Any] = {}
    if name == "ffl_z_mc":  # the old pipeline's FFL-balance Z: ARG sign-shuffle samples
        gs = _zhang_graphs()
        t = time.perf_counter()
        out["z"] = [float(motif_zscores(g, "ffl_balance", null="sign_shuffle", n=arg, seed=0)
                          .loc["ffl_balance_pooled", "z"]) for g in gs]  # fmt: skip
        out["seconds"] = time.perf_counter() - t
    elif name == "ffl_z_exact":
        from sparsetopo.analysis.fastnull import sign_shuffle_ffl_moments

        gs = _zhang_graphs()
        t = time.perf_counter()
        out["z"] = [sign_shuffle_ffl_moments(g).z for g in gs]
        out["seconds"] = time.perf_counter() - t
    elif name == "switching_big":  # ARG switching samples of a 1e5-edge graph, census of each
        big = graph(1000, 100_000, 4)
        t = time.perf_counter()
        motif_zscores(big, "triads", null="switching", n=arg, seed=0)
        out["seconds"] = time.perf_counter() - t
        out["edges"] = big.n_edges
    elif name == "switching_zhang":  # ARG samples, census + FFL balance, every Zhang snapshot
        gs = _zhang_graphs()
        t = time.perf_counter()
        for i, g in enumerate(gs):
            motif_zscores(g, null="switching", n=arg, seed=i)
        out["seconds"] = time.perf_counter() - t
    elif name == "layered_null":  # ARG layer-switching samples of a 784-300-100-10 MLP
        rng = np.random.default_rng(0)
        mats = []
        for a, b, d in ((784, 300, 0.1), (300, 100, 0.1), (100, 10, 0.3)):
            m = sp.random(a, b, density=d, random_state=rng, format="csr", dtype=np.float32)
            m.data = np.where(rng.random(m.nnz) < 0.5, -1.0, 1.0).astype(np.float32) * (0.1 + m.data)
            mats.append(m)
        lg = LayeredGraph(tuple(mats), None)
        t = time.perf_counter()
        motif_zscores(lg, null="layer_switching", n=arg, seed=0)
        out["seconds"] = time.perf_counter() - t
        out["edges"] = sum(m.nnz for m in mats)
    elif name == "nnstd_rec":  # recurrent NNSTD of the 40 consecutive Zhang snapshot pairs
        from sparsetopo.analysis import nnstd_recurrent

        gs = _zhang_graphs()
        with threadpool_limits(1):  # as in the analyze workers
            t = time.perf_counter()
            out["d"] = [nnstd_recurrent(a.adj, b.adj).distance for a, b in itertools.pairwise(gs)]
            out["seconds"] = (time.perf_counter() - t) / (len(gs) - 1)
    elif name.startswith("analyze"):  # Store.analyze of the ingested zhang-prune run
        from sparsetopo.api.store import Store

        store = Store.connect(start=False)
        try:
            kw: dict[str, Any] = {"force": True, "n_null": max(arg, 1), "workers": 2}
            if name == "analyze_overhead":  # balance only: reading, dispatch, write-back
                kw.update(motifs=False, nnstd=False, overlap=False)
            t = time.perf_counter()
            store.analyze(BENCH_RUN, **kw)
            out["seconds"] = time.perf_counter() - t
        finally:
            store.close()
    else:
        raise SystemExit(f"unknown job {name}")
    return out


BENCH_RUN = "zhang-prune"


def run_job(code: Path, name: str, arg: int) -> dict[str, Any]:
    import json
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(code))
    # the job itself comes from this file, whatever code it runs against
    res = subprocess.run([sys.executable, __file__, "--job", name, str(arg)], env=env, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return json.loads(res.stdout.strip().splitlines()[-1])


def issue15(baseline_ref: str, quick: bool, with_db: bool, old_1000: bool) -> None:
    import subprocess
    import tempfile

    repo = Path(__file__).resolve().parents[1]
    tmp = Path(tempfile.mkdtemp(prefix="sparsetopo-baseline-"))
    archive = subprocess.run(["git", "-C", str(repo), "archive", baseline_ref], check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    rows: list[tuple[str, float, float | None, str]] = []

    def both(label: str, new: tuple[str, int], old: tuple[str, int] | None, scale: float = 1.0,
             note: str = "") -> dict[str, Any]:  # fmt: skip
        r_new = run_job(repo, *new)
        r_old = run_job(tmp, *old) if old else None
        t_old = r_old["seconds"] * scale if r_old else None
        rows.append((label, r_new["seconds"], t_old, note))
        return {"new": r_new, "old": r_old}

    r = both("FFL-balance Z of the 41 zhang-prune snapshots (exact vs 100 sign-shuffle samples)",
             ("ffl_z_exact", 0), ("ffl_z_mc", 100))  # fmt: skip
    zd = np.abs(np.array(r["new"]["z"]) - np.array(r["old"]["z"]))
    rows[-1] = (*rows[-1][:3], f"|Z exact - Z MC(100)| median {np.nanmedian(zd):.2f}, max {np.nanmax(zd):.2f}")
    # the baseline's 1000 samples would take ~7 minutes: it runs n_old, scaled to 1000 (which
    # overstates it slightly: the burn-in is paid once, not 1000 / n_old times)
    n_big, n_old = (100, 10) if quick else (1000, 50)
    r = run_job(repo, "switching_big", n_big)
    r_old = run_job(tmp, "switching_big", n_old)
    rows.append((f"switching null, {n_big} samples of a 1e5-edge graph (n=1000), census each",
                 r["seconds"], r_old["seconds"] * n_big / n_old,
                 f"baseline: {n_old} samples x {n_big // n_old} (extrapolated)"))
    n_z = 100 if quick else 1000
    both(f"switching Z-scores (triads + FFL balance), {n_z} samples, all 41 snapshots",
         ("switching_zhang", n_z), ("switching_zhang", 100), scale=n_z / 100,
         note="baseline: 100 samples x 10 (extrapolated)" if n_z != 100 else "")  # fmt: skip
    n_lay = 100 if quick else 1000
    both(f"layer-switching Z-scores (layered + cycle-4 balance), {n_lay} samples, "
         "784-300-100-10 MLP (26,820 edges)", ("layered_null", n_lay), ("layered_null", 100),
         scale=n_lay / 100, note="baseline: 100 samples x 10 (extrapolated)" if n_lay != 100 else "")  # fmt: skip
    r = both("recurrent NNSTD of two 150-unit snapshots (mean of 40 consecutive pairs)",
             ("nnstd_rec", 0), ("nnstd_rec", 0))  # fmt: skip
    same = r["new"]["d"] == r["old"]["d"]
    rows[-1] = (*rows[-1][:3], "distances identical" if same else "DISTANCES DIFFER")
    if with_db:
        both("analyze zhang-prune, balance only (per-snapshot overhead x 41)",
             ("analyze_overhead", 1), ("analyze_overhead", 1))  # fmt: skip
        both("analyze zhang-prune --force, defaults (100 null samples)",
             ("analyze", 100), ("analyze", 100))  # fmt: skip
        r100 = rows[-1][1]
        both("analyze zhang-prune --force --n-null 1000", ("analyze", 1000),
             ("analyze", 1000) if old_1000 else None)  # fmt: skip
        rows.append(("cost of 1000 null samples over 100 (analyze time ratio, this code)",
                     rows[-1][1] / r100, None, "a ratio, not seconds"))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; baseline {baseline_ref}")
    print(f"{'benchmark':<92} {'new (s)':>9} {'old (s)':>9} {'old/new':>8}  note")
    for name, t_new, t_old, note in rows:
        o = f"{t_old:9.3f}" if t_old is not None else f"{'-':>9}"
        ratio = f"{t_old / t_new:8.1f}" if t_old is not None else f"{'-':>8}"
        print(f"{name:<92} {t_new:9.3f} {o} {ratio}  {note}")


def main() -> None:
    import json
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "--job":
        print(json.dumps(job(sys.argv[2], int(sys.argv[3]))))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--full-networkx", action="store_true", help="networkx on the full graph (~60 s)")
    ap.add_argument("--issue15", action="store_true",
                    help="null-model and analyze timings against --baseline-ref (issue 15)")
    ap.add_argument("--baseline-ref", default="a806293", help="git ref of the baseline code")
    ap.add_argument("--db", action="store_true",
                    help="also time Store.analyze of the ingested run zhang-prune (managed server "
                    "of SPARSETOPO_HOME; ingest it first: sparsetopo ingest "
                    "tests/data/zhang2023-sparse-rnn/MNIST/pruning_n_150_p_0.05 --run zhang-prune)")
    ap.add_argument("--old-1000", action="store_true", help="also run the baseline analyze at 1000")
    args = ap.parse_args()
    if args.issue15:
        issue15(args.baseline_ref, args.quick, args.db, args.old_1000)
        return
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
