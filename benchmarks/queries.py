"""Benchmark of the Cypher library on a ~1e6-relationship run and a 500-snapshot run.

    SPARSETOPO_HOME=... python benchmarks/queries.py [--small] [--keep]

Builds (with RunWriter) a recurrent run whose snapshots turn over a fraction of their edges,
then times, warm, the median of several repetitions of:

* ``overlap`` between two snapshots (target <= 1 s) against a baseline in the same process that
  reads both snapshots into Python and intersects them with numpy (the answers must agree);
* ``history`` of a 500-snapshot run (target <= 50 ms) against the same query with the index
  defeated (``s.run_id + '' = $id`` forces a label scan);
* a few more library queries for reference.

Runs are named bench-q-* and deleted at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from sparsetopo.api.store import Store
from sparsetopo.graphstore.reader import read_snapshot
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.queries.library import get_query
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    fn()  # warm-up: plan cache, page cache
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def evolving_run(store: Store, name: str, n: int, m: int, snapshots: int, turnover: float,
                 flips: float, seed: int = 0) -> int:
    """Write a recurrent run of n units, m edges, `snapshots` snapshots; each snapshot replaces
    a `turnover` fraction of the edges and flips the sign of a `flips` fraction. Returns the
    number of SYNAPSE relationships written."""
    rng = np.random.default_rng(seed)
    arch = Architecture({"hidden": n}, (LayerSpec("W_rec", "hidden", "hidden", n, n, "recurrent"),))
    writer = RunWriter(store.driver, name, arch, meta={"task": "benchmark"})
    keys = rng.choice(n * n, size=m, replace=False)
    w = rng.normal(size=m).astype(np.float32)
    rels = 0
    for step in range(snapshots):
        if step:
            k = int(turnover * m)
            drop = rng.choice(m, size=k, replace=False)
            pool = np.setdiff1d(rng.choice(n * n, size=3 * k, replace=False), keys)[:k]
            keys[drop[: len(pool)]] = pool
            w[drop[: len(pool)]] = rng.normal(size=len(pool)).astype(np.float32)
            flip = rng.choice(m, size=int(flips * m), replace=False)
            w[flip] = -w[flip]
        order = np.argsort(keys)
        edges = LayerEdges(keys[order] // n, keys[order] % n, w[order])
        written = writer.write(GraphSnapshot({"W_rec": edges}, step=step * 10))
        rels += written.births
    writer.finish()
    return rels


def numpy_overlap(store: Store, name: str, step_a: int, step_b: int) -> dict[str, float]:
    a = read_snapshot(store.driver, name, step=step_a).layers["W_rec"]
    b = read_snapshot(store.driver, name, step=step_b).layers["W_rec"]
    n = int(max(a.src.max(), a.dst.max(), b.src.max(), b.dst.max())) + 1
    ka, kb = a.keys(n), b.keys(n)
    common, ia, ib = np.intersect1d(ka, kb, assume_unique=True, return_indices=True)
    flips = int(np.count_nonzero(np.sign(a.w[ia]) != np.sign(b.w[ib])))
    shared = len(common)
    return {"shared": shared, "sign_flips": flips,
            "jaccard": shared / (len(ka) + len(kb) - shared)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="~1e5 relationships (quick check)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark runs")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    n, m, snaps = (600, 60_000, 6) if args.small else (2_000, 600_000, 8)
    tag = uuid.uuid4().hex[:6]
    big, hist = f"bench-q-big-{tag}", f"bench-q-hist-{tag}"
    store = Store.connect()
    try:
        t = time.perf_counter()
        rels = evolving_run(store, big, n, m, snaps, turnover=0.08, flips=0.01)
        build = time.perf_counter() - t
        print(f"built {big}: {snaps} snapshots of {m:,} edges, {rels:,} SYNAPSE relationships "
              f"in {build:.1f} s ({rels / build:,.0f} rel/s)")
        t = time.perf_counter()
        evolving_run(store, hist, 30, 60, 500, turnover=0.1, flips=0.02, seed=1)
        print(f"built {hist}: 500 snapshots in {time.perf_counter() - t:.1f} s")

        sa, sb = 10, (snaps - 1) * 10
        q_overlap, res = timed(lambda: store.query("overlap", run=big, step_a=sa, step_b=sb),
                               args.reps)
        q_numpy, ref = timed(lambda: numpy_overlap(store, big, sa, sb), args.reps)
        row = res.set_index("layer").loc["*"]
        assert row.shared == ref["shared"] and row.sign_flips == ref["sign_flips"], (row, ref)
        print(f"overlap (steps {sa} vs {sb}): cypher {q_overlap * 1e3:.1f} ms, "
              f"read-into-numpy baseline {q_numpy * 1e3:.1f} ms, ratio {q_numpy / q_overlap:.1f}x; "
              f"target <= 1000 ms: {'ok' if q_overlap <= 1 else 'MISSED'}")

        text = get_query("history").text
        naive = text.replace("MATCH (s:Snapshot {run_id: r.run_id})\nWHERE s.complete = true",
                         "MATCH (s:Snapshot)\nWHERE s.run_id + '' = r.run_id AND s.complete = true")
        assert naive != text
        q_hist, h = timed(lambda: store.query("history", run=hist, key="sparsity"), args.reps)
        q_naive, h2 = timed(lambda: store.cypher(naive, run=hist, key="sparsity"), args.reps)
        assert len(h) == len(h2) == 500
        q_api, _ = timed(lambda: store.history(hist), args.reps)
        print(f"history (500 snapshots): cypher {q_hist * 1e3:.1f} ms, without the index "
              f"{q_naive * 1e3:.1f} ms (ratio {q_naive / q_hist:.1f}x), Store.history (all "
              f"properties, DataFrame) {q_api * 1e3:.1f} ms; target <= 50 ms: "
              f"{'ok' if q_hist <= 0.05 else 'MISSED'}")

        others: dict[str, dict[str, Any]] = {
            "turnover": {"run": big},
            "edges_alive": {"run": big, "step": sb, "layer": "W_rec"},
            "survivors": {"run": big, "layer": "W_rec", "step_a": sa, "step_b": sb},
            "top_synapses": {"run": big, "step": sb, "layer": "W_rec", "neuron": 0,
                             "direction": "both", "k": 10},
            "neuron_degree_history": {"run": big, "layer": "W_rec", "neuron": 0},
            "snapshots": {"run": hist},
            "turnover ": {"run": hist},
        }
        for name, params in others.items():

            def run_query(name: str = name, params: dict[str, Any] = params) -> Any:
                return store.query(name.strip(), **params)

            q, df = timed(run_query, max(1, args.reps // 2))
            print(f"{name.strip():22s} {params['run'][:12]:12s} {q * 1e3:9.1f} ms  ({len(df)} rows)")
    finally:
        if not args.keep:
            for name in (big, hist):
                delete_run(store.driver, name)
        store.close()


if __name__ == "__main__":
    main()
