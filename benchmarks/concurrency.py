"""Concurrent writers: 1, 2, 4, 8 processes, each ingesting its own run with RunWriter.

    python benchmarks/concurrency.py            # 6 snapshots x 20,000 edges per writer
    python benchmarks/concurrency.py --quick    # 4 snapshots x 5,000 edges per writer

Every writer process opens its own driver and writes a SET-style recurrent run (each snapshot
replaces 20% of the edges and perturbs the weights). The work per writer is fixed, so total work
grows with the writer count: throughput (relationship writes per second over the wall time of
all writers) scales until the server saturates. Prints throughput, the ratio to one writer,
errors (exceptions that reached a writer), transient retries (the driver's "will be retried"
warnings: deadlocks, lock timeouts) and whether every run reads back exactly. Uses the resolved
database (NEO4J_* or the managed server of SPARSETOPO_HOME); runs named bench-conc-* are
deleted afterwards.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import time
import uuid
from typing import Any

import numpy as np

from sparsetopo.graphstore.connection import open_driver
from sparsetopo.graphstore.reader import read_snapshot
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec


def arch(n: int) -> Architecture:
    return Architecture({"hidden": n}, (LayerSpec("W_rec", "hidden", "hidden", n, n, "recurrent"),))


def snapshots(seed: int, n: int, m: int, k: int, churn: float = 0.2):
    """k snapshots of an n-unit recurrent layer with m edges; each replaces `churn` of them."""
    rng = np.random.default_rng(seed)
    keys = rng.choice(n * n, size=m, replace=False)
    w = rng.normal(size=m).astype(np.float32)
    for step in range(k):
        order = np.argsort(keys)
        yield GraphSnapshot({"W_rec": LayerEdges(keys[order] // n, keys[order] % n, w[order])},
                            step=step)
        drop = rng.choice(m, size=int(churn * m), replace=False)
        fresh = np.setdiff1d(rng.choice(n * n, size=3 * len(drop), replace=False), keys)
        keys[drop] = fresh[: len(drop)]
        w[drop] = rng.normal(size=len(drop)).astype(np.float32)
        w += 0.01 * rng.normal(size=m).astype(np.float32)


class _RetryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "retried" in record.getMessage():
            self.count += 1


def writer_process(name: str, seed: int, n: int, m: int, k: int, barrier: Any, out: Any) -> None:
    """One writer: its own driver, one run; puts rel ops, start/end times, error, retries."""
    counter = _RetryCounter()
    logging.getLogger("neo4j").addHandler(counter)
    driver, _ = open_driver()
    try:
        barrier.wait()  # all writers connected and imported: start together
        start = time.time()
        ops = 0
        try:
            writer = RunWriter(driver, name, arch(n))
            for snap in snapshots(seed, n, m, k):
                done = writer.write(snap)
                ops += done.births + done.deaths + done.flips
            writer.finish()
            error = None
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        out.put({"name": name, "seed": seed, "ops": ops, "start": start, "end": time.time(),
                 "error": error, "retries": counter.count})
    finally:
        driver.close()


def check_exact(driver: Any, name: str, seed: int, n: int, m: int, k: int) -> bool:
    """Every snapshot of the run reads back with exactly the edges and weights written."""
    for seq, snap in enumerate(snapshots(seed, n, m, k)):
        got = read_snapshot(driver, name, seq=seq).layers["W_rec"]
        want = snap.layers["W_rec"]
        g = np.lexsort((got.dst, got.src))
        if not (np.array_equal(got.src[g], want.src) and np.array_equal(got.dst[g], want.dst)
                and np.array_equal(got.w[g], want.w)):
            return False
    return True


def run(counts: list[int], n: int, m: int, k: int) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    rows = []
    driver, _ = open_driver()
    try:
        for writers in counts:
            tag = uuid.uuid4().hex[:6]
            names = [f"bench-conc-{tag}-{i}" for i in range(writers)]
            barrier, out = ctx.Barrier(writers), ctx.Queue()
            procs = [ctx.Process(target=writer_process,
                                 args=(name, 1000 + i, n, m, k, barrier, out))
                     for i, name in enumerate(names)]
            for p in procs:
                p.start()
            results = [out.get(timeout=3600) for _ in procs]
            for p in procs:
                p.join()
            wall = max(r["end"] for r in results) - min(r["start"] for r in results)
            exact = all(check_exact(driver, r["name"], r["seed"], n, m, k)
                        for r in results if r["error"] is None)
            ops = sum(r["ops"] for r in results)
            rows.append({
                "writers": writers,
                "rel_ops": ops,
                "wall_s": wall,
                "ops_per_s": ops / wall,
                "errors": [r["error"] for r in results if r["error"]],
                "retries": sum(r["retries"] for r in results),
                "exact": exact,
            })
            for name in names:
                delete_run(driver, name)
    finally:
        driver.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workloads")
    parser.add_argument("--writers", default="1,2,4,8", help="comma-separated writer counts")
    args = parser.parse_args()
    n, m, k = (500, 5_000, 4) if args.quick else (1_000, 20_000, 6)
    counts = [int(x) for x in args.writers.split(",")]
    print(f"per writer: {k} snapshots of an {n}-unit recurrent layer with {m:,} edges, 20% "
          f"replaced per snapshot; cpus: {os.cpu_count()}")
    rows = run(counts, n, m, k)
    base = rows[0]["ops_per_s"]
    print(f"{'writers':>7} {'rel ops':>9} {'wall s':>7} {'rel ops/s':>10} {'vs 1':>5} "
          f"{'errors':>6} {'retries':>7} {'exact':>5}")
    for r in rows:
        print(f"{r['writers']:>7} {r['rel_ops']:>9,} {r['wall_s']:>7.1f} {r['ops_per_s']:>10,.0f} "
              f"{r['ops_per_s'] / base:>5.2f} {len(r['errors']):>6} {r['retries']:>7} "
              f"{'yes' if r['exact'] else 'NO':>5}")
        for e in r["errors"]:
            print(f"        error: {e}")


if __name__ == "__main__":
    main()
