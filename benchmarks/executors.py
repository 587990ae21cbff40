"""Store.analyze on the local process pool against Dask distributed, in the same run.

    python benchmarks/executors.py            # 12 snapshots, 300 units, 6,000 edges, 100 nulls
    python benchmarks/executors.py --quick    # 6 snapshots, 150 units, 1,500 edges, 20 nulls

Writes one synthetic recurrent run, then analyses it (force=True, same seeds) with

* the local executor: the client reads the snapshots and a 2-process pool computes;
* Dask: a ``distributed.LocalCluster`` of 2 worker processes x 1 thread, whose workers read
  the snapshots from the database themselves (cluster start-up is timed separately);

and prints wall times, the ratio, the bytes each executor shipped to its workers (the pool:
pickled tasks with edges; Dask: references) and whether both stored identical results. Uses the
resolved database (NEO4J_* or the managed server of SPARSETOPO_HOME); the run is deleted.
"""

from __future__ import annotations

import argparse
import pickle
import time
import uuid

import numpy as np
import pandas as pd

from sparsetopo.api import executors
from sparsetopo.api.pipeline import dispatch, edges_of, run_parallel
from sparsetopo.api.plan import AnalysisOptions, SnapshotTask, plan_analysis
from sparsetopo.api.store import Store
from sparsetopo.graphstore.reader import read_snapshot
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec


def write_run(store: Store, name: str, n: int, m: int, k: int) -> None:
    rng = np.random.default_rng(3)
    arch = Architecture({"hidden": n},
                        (LayerSpec("W_rec", "hidden", "hidden", n, n, "recurrent"),))
    keys = rng.choice(n * n, size=m, replace=False)
    w = rng.normal(size=m).astype(np.float32)
    writer = RunWriter(store.driver, name, arch)
    for step in range(k):
        order = np.argsort(keys)
        writer.write(GraphSnapshot({"W_rec": LayerEdges(keys[order] // n, keys[order] % n,
                                                        w[order])}, step=step))
        drop = rng.choice(m, size=m // 10, replace=False)
        fresh = np.setdiff1d(rng.choice(n * n, size=3 * len(drop), replace=False), keys)
        keys[drop] = fresh[: len(drop)]
        w[drop] = rng.normal(size=len(drop)).astype(np.float32)
    writer.finish()


def shipped_tasks(store: Store, name: str, n_null: int, k: int) -> list[SnapshotTask]:
    """The snapshot tasks of the analysis with their edges read by the client."""
    plan = plan_analysis(store.architecture(name))
    opts = AnalysisOptions(True, True, None, n_null, 0)
    return [SnapshotTask(plan, opts, s, edges_of(read_snapshot(store.driver, name, seq=s).layers))
            for s in range(k)]


def stored(store: Store, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (store.history(name).drop(columns=["created_at"], errors="ignore"),
            store.motifs(name).sort_values(["seq", "motif"]).reset_index(drop=True))


def main() -> None:
    import distributed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small workload")
    args = parser.parse_args()
    n, m, k, n_null = (150, 1_500, 6, 20) if args.quick else (300, 6_000, 12, 100)
    name = f"bench-exec-{uuid.uuid4().hex[:6]}"
    with Store.connect() as store:
        write_run(store, name, n, m, k)
        try:
            opts = {"n_null": n_null, "nnstd": "chain", "force": True}
            t0 = time.perf_counter()
            store.analyze(name, workers=2, **opts)
            t_local = time.perf_counter() - t0
            local_res = stored(store, name)
            edge_bytes = sum(len(pickle.dumps(edges_of(read_snapshot(
                store.driver, name, seq=s).layers))) for s in range(k))

            t0 = time.perf_counter()
            cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                               processes=True, dashboard_address=None)
            client = distributed.Client(cluster)
            t_start = time.perf_counter() - t0
            try:
                ex = executors.DaskExecutor(client=client)
                t0 = time.perf_counter()
                first = store.analyze(name, executor=ex, **opts)  # workers open their drivers
                t_dask_first = time.perf_counter() - t0
                t0 = time.perf_counter()
                store.analyze(name, executor=ex, **opts)
                t_dask = time.perf_counter() - t0
                # the same tasks with the edges shipped by the client (no worker reads): what
                # Dask itself costs on this machine
                shipped = shipped_tasks(store, name, n_null, k)
                t0 = time.perf_counter()
                client.gather([client.submit(dispatch, task, pure=False) for task in shipped])
                t_dask_data = time.perf_counter() - t0
                t0 = time.perf_counter()
                run_parallel(dispatch, shipped, 2)
                t_pool_data = time.perf_counter() - t0
            finally:
                client.close()
                cluster.close()
            dask_res = stored(store, name)
            same = all(a.equals(b) for a, b in zip(local_res, dask_res, strict=True))
        finally:
            delete_run(store.driver, name)
    tasks = len(first.computed) + first.pairs
    print(f"run: {k} snapshots, {n} units, {m:,} edges; {n_null} null samples; "
          f"{tasks} tasks")
    print(f"{'executor':<34} {'seconds':>8} {'vs pool':>8}")
    print(f"{'local pool, 2 processes':<34} {t_local:>8.2f} {1.0:>8.2f}")
    print(f"{'dask 2x1, first (drivers opened)':<34} {t_dask_first:>8.2f} "
          f"{t_dask_first / t_local:>8.2f}")
    print(f"{'dask 2x1, warm':<34} {t_dask:>8.2f} {t_dask / t_local:>8.2f}")
    print(f"snapshot tasks only, edges shipped by the client (no worker reads): pool "
          f"{t_pool_data:.2f} s, dask {t_dask_data:.2f} s ({t_dask_data / t_pool_data:.2f}x)")
    print(f"dask LocalCluster start: {t_start:.2f} s (not in the times above)")
    print(f"shipped to workers: pool >= {edge_bytes:,} bytes of edges (each snapshot once, "
          f"pairs twice); dask {ex.payload_bytes:,} bytes of references")
    print(f"identical stored results: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
