"""ResNet-18 (torchvision, 90% global magnitude pruning) recorded and analysed at defaults.

    nice -n 10 python benchmarks/resnet.py             # 2 snapshots (90% and 92% pruned)
    nice -n 10 python benchmarks/resnet.py --quick     # 1 snapshot, 10 null samples

Builds ``torchvision.models.resnet18(num_classes=10)`` with random weights, prunes 90% of its
conv and linear weights by global L1 magnitude, writes the snapshot (the Recorder's extraction,
``ingest.extract.ModelGraph``, through ``RunWriter``), prunes to 92% and writes a second one,
then runs ``Store.analyze`` at its defaults (2 workers, 100 null samples, NNSTD and overlap).

Baseline, in the same run: the same computation of the first snapshot in this process with no
database (``pipeline.snapshot_task`` on the extracted edges, one BLAS thread), split into the
whole-model graph (exact census, FFL balance and its exact Z) and the chains (Monte Carlo
layered motif Z-scores). The ratio analyse / baseline is the cost of reading, dispatching and
writing back. Uses the resolved database (NEO4J_* or the managed server); the run is deleted.
"""

from __future__ import annotations

import argparse
import time
import uuid

from sparsetopo.api.pipeline import edges_of, snapshot_task
from sparsetopo.api.plan import AnalysisOptions, SnapshotTask, plan_analysis
from sparsetopo.api.store import Store
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.graphstore.writer import RunWriter


def main() -> None:
    import torch
    import torchvision
    from threadpoolctl import threadpool_limits
    from torch.nn.utils import prune

    from sparsetopo.ingest.extract import ModelGraph

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one snapshot, 10 null samples")
    args = parser.parse_args()
    n_null = 10 if args.quick else 100
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    params = [(m, "weight") for m in model.modules()
              if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    graph = ModelGraph(model)
    snaps = []
    for step, amount in ((0, 0.9), (1, 0.92))[: 1 if args.quick else 2]:
        prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)
        snaps.append(graph.snapshot(step=step))
    arch = graph.architecture
    plan = plan_analysis(arch)
    chains = [p for p in plan.parts if p.kind == "chain"]
    print(f"resnet18: {len(arch.layers)} layers, {len(arch.groups)} groups, "
          f"{sum(arch.groups.values())} units, {snaps[0].n_edges:,} edges at 90%; "
          f"{len(chains)} maximal chains")

    edges = edges_of(snaps[0].layers)
    with threadpool_limits(1):
        t0 = time.perf_counter()
        snapshot_task(SnapshotTask(plan, AnalysisOptions(motifs=False, n_null=n_null), 0, edges))
        t_model = time.perf_counter() - t0
        t0 = time.perf_counter()
        chain_plan = type(plan)(tuple(chains), chains[0].name, plan.shapes, plan.layer_order,
                                plan.groups, plan.group_of, False)
        snapshot_task(SnapshotTask(chain_plan, AnalysisOptions(balance=False, n_null=n_null), 0,
                                   edges))
        t_chains = time.perf_counter() - t0
    base = t_model + t_chains
    print(f"baseline (in process, no database, 1 snapshot): model graph {t_model:.1f} s, "
          f"chains' motifs ({n_null} nulls) {t_chains:.1f} s, total {base:.1f} s")

    name = f"bench-resnet-{uuid.uuid4().hex[:6]}"
    with Store.connect() as store:
        try:
            t0 = time.perf_counter()
            writer = RunWriter(store.driver, name, arch)
            for snap in snaps:
                writer.write(snap)
            writer.finish()
            t_write = time.perf_counter() - t0
            print(f"record: {len(snaps)} snapshots in {t_write:.1f} s "
                  f"({t_write / len(snaps):.1f} s per snapshot)")
            t0 = time.perf_counter()
            report = store.analyze(name, n_null=n_null)
            t_an = time.perf_counter() - t0
            per = t_an / len(snaps)
            print(f"analyze at defaults (n_null={n_null}, 2 workers): {t_an:.1f} s for "
                  f"{len(report.computed)} snapshots and {report.pairs} pairs = {per:.1f} s per "
                  f"snapshot (target <= 30 s); ratio to the in-process baseline "
                  f"{per / base:.2f}")
            h = store.history(name)
            print(f"ffl_balance {h['ffl_balance'].round(4).tolist()}, ffl_balance_z "
                  f"{h['ffl_balance_z'].round(3).tolist()}")
        finally:
            delete_run(store.driver, name, store.database)


if __name__ == "__main__":
    main()
