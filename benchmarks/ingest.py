"""Ingestion benchmark: the server-side plugin writer and the Cypher writer (same workloads, same
server, same run), the Recorder, and the naive per-row MERGE baseline.

    python benchmarks/ingest.py            # full workloads (a few minutes)
    python benchmarks/ingest.py --quick    # smaller workloads
    python benchmarks/ingest.py --quick --writers plugin,cypher --no-recorder

Workloads (issue 3): an MLP 784-1000-1000-1000-10 at 90% sparsity rewired SET-style for 20
snapshots, and a 1024-unit RNN pruned from dense to 90% over 10 snapshots. Prints relationships
per second, the Recorder's blocking time per snapshot, the training slowdown, and bytes on disk
per stored edge and per edge-snapshot of weights. Uses the resolved database (NEO4J_* or the
managed server of SPARSETOPO_HOME); runs named bench-* are deleted afterwards.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.utils.prune

from sparsetopo.graphstore.connection import open_driver, resolve_connection
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.ingest.recorder import Recorder
from sparsetopo.server.process import ManagedServer
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec

_PARTS = (("relationships", "relationshipstore.db"), ("rel groups", "relationshipgroupstore"),
          ("properties", "propertystore.db"), ("nodes", "nodestore"), ("indexes", "schema/"))


def _part(name: str) -> str:
    for label, marker in _PARTS:
        if marker in name and not name.endswith(".id"):
            if label == "properties" and (".arrays" in name or ".strings" in name):
                return "arrays+strings"
            return label
    return "other"


STORE_PARTS: dict[str, int] = {}


def store_bytes() -> int | None:
    """Size of the store files after a clean restart (Community has no db.checkpoint(); a clean
    shutdown checkpoints). None on an external database. The size by kind of file is left in
    STORE_PARTS."""
    if not resolve_connection(start=False).managed:
        return None
    server = ManagedServer()
    server.stop()
    server.start()
    path = server.data_dir / "databases" / "neo4j"
    STORE_PARTS.clear()
    for f in path.rglob("*"):
        if f.is_file():
            key = _part(str(f.relative_to(path)))
            STORE_PARTS[key] = STORE_PARTS.get(key, 0) + f.stat().st_size
    return sum(STORE_PARTS.values())


def mlp_arch(sizes: list[int]) -> Architecture:
    groups = {"input": sizes[0]} | {f"l{i}": n for i, n in enumerate(sizes[1:], 1)}
    names = list(groups)
    layers = tuple(
        LayerSpec(f"fc{i}", names[i - 1], names[i], sizes[i - 1], sizes[i], "linear", position=i - 1)
        for i in range(1, len(sizes))
    )
    return Architecture(groups, layers)


def set_snapshots(arch: Architecture, density: float, n: int, zeta: float, seed: int):
    """SET-style evolution: each step removes fraction zeta of edges and regrows as many."""
    rng = np.random.default_rng(seed)
    masks = {s.name: rng.random((s.n_in, s.n_out)) < density for s in arch.layers}
    weights = {s.name: rng.normal(size=(s.n_in, s.n_out)).astype(np.float32) for s in arch.layers}
    for step in range(n):
        yield GraphSnapshot({k: LayerEdges.from_dense(weights[k] * masks[k]) for k in masks},
                            step=step)
        for name, mask in masks.items():
            alive = np.flatnonzero(mask)
            dead = np.flatnonzero(~mask)
            k = int(zeta * len(alive))
            mask.flat[rng.choice(alive, k, replace=False)] = False
            mask.flat[rng.choice(dead, k, replace=False)] = True
            weights[name] += 0.01 * rng.normal(size=weights[name].shape).astype(np.float32)


def pruning_snapshots(n_hidden: int, final_density: float, n: int, seed: int):
    """A dense recurrent matrix magnitude-pruned to final_density over n snapshots."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n_hidden, n_hidden)).astype(np.float32)
    order = np.argsort(np.abs(w), axis=None)
    for step in range(n):
        density = 1.0 - (1.0 - final_density) * step / (n - 1)
        pruned = w.copy()
        pruned.flat[order[: round((1 - density) * w.size)]] = 0
        yield GraphSnapshot({"W_hh": LayerEdges.from_dense(pruned)}, step=step)


def run_writer(name: str, arch: Architecture, snapshots, writer_kind: str = "auto") -> dict[str, float]:
    before = store_bytes()
    parts_before = dict(STORE_PARTS)
    driver, _ = open_driver()
    start = time.perf_counter()
    writer = RunWriter(driver, name, arch, replace=True, writer=writer_kind)
    assert writer_kind == "auto" or writer.writer.backend == writer_kind
    births = edge_snapshots = 0
    for snap in snapshots:
        result = writer.write(snap)
        births += result.births + result.deaths
        edge_snapshots += result.n_edges
    writer.finish()
    seconds = time.perf_counter() - start
    records, _, _ = driver.execute_query(
        "MATCH (r:Run {name: $n}) MATCH ()-[s:SYNAPSE]->() WHERE s.run_id = r.run_id "
        "RETURN count(s) AS n", n=name)
    stored = records[0]["n"]
    driver.close()
    after = store_bytes()
    grown = None if before is None or after is None else after - before
    parts = {k: (STORE_PARTS.get(k, 0) - parts_before.get(k, 0)) / max(stored, 1)
             for k in sorted(set(STORE_PARTS) | set(parts_before))}
    return {
        "seconds": seconds,
        "relationships": stored,
        "rel_ops": births,
        "rel_per_s": births / seconds,
        "edge_snapshots": edge_snapshots,
        "bytes_per_edge_snapshot": (grown / edge_snapshots) if grown else float("nan"),
        "bytes_per_stored_rel": (grown / stored) if grown else float("nan"),
        "store_growth_mb": (grown or 0) / 1e6,
        "bytes_per_rel_by_file": parts,
    }


def naive_merge(driver, n_rows: int, n_nodes: int, seed: int) -> float:
    """The tutorial way: one MERGE per row (nodes and relationship), rows sent as maps."""
    rng = np.random.default_rng(seed)
    keys = rng.choice(n_nodes * n_nodes, n_rows, replace=False)
    rows = [{"s": int(k // n_nodes), "t": int(k % n_nodes), "w": float(rng.normal())} for k in keys]
    driver.execute_query("CREATE INDEX bench_naive IF NOT EXISTS FOR (n:BenchNeuron) ON (n.id)")
    start = time.perf_counter()
    for i in range(0, n_rows, 5000):
        driver.execute_query(
            "UNWIND $rows AS row MERGE (a:BenchNeuron {id: row.s}) MERGE (b:BenchNeuron {id: row.t}) "
            "MERGE (a)-[r:BENCH_SYNAPSE]->(b) SET r.weight = row.w",
            rows=rows[i:i + 5000])
    seconds = time.perf_counter() - start
    with driver.session() as session:
        session.run("MATCH (n:BenchNeuron) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 500 ROWS"
                    ).consume()
    driver.execute_query("DROP INDEX bench_naive IF EXISTS")
    return n_rows / seconds


def commit_split(driver, n: int = 100_000, reps: int = 2) -> list[str]:
    """Where a transaction of n births spends its time: the statement (procedure or Cypher)
    versus the commit, for both writers, on 1000 scratch neurons."""
    driver.execute_query("UNWIND range(0, 999) AS i CREATE (:BenchSplit:Neuron {run_id: -7, index: i})")
    records, _, _ = driver.execute_query(
        "MATCH (n:BenchSplit) RETURN id(n) AS i ORDER BY n.index")
    ids = np.array([r["i"] for r in records], dtype=np.int64)
    rng = np.random.default_rng(0)
    lines = []
    for rep in range(reps):
        for kind in ("plugin", "cypher"):
            keys = rng.choice(1000 * 1000, n, replace=False)
            with driver.session() as session:
                tx = session.begin_transaction()
                start = time.perf_counter()
                if kind == "plugin":
                    tx.run("CALL sparsetopo.births(-7, 'split', $seq, $nodes, $nodes, $s, $t, $g) "
                           "YIELD n RETURN n", seq=rep, nodes=ids.astype("<i8").tobytes(),
                           s=(keys // 1000).astype("<i4").tobytes(),
                           t=(keys % 1000).astype("<i4").tobytes(),
                           g=np.ones(n, np.int8).tobytes()).consume()
                else:
                    tx.run("UNWIND range(0, size($a) - 1) AS i MATCH (a) WHERE id(a) = $a[i] "
                           "MATCH (b) WHERE id(b) = $b[i] CREATE (a)-[:SYNAPSE {run_id: -7, "
                           "layer: 'split', born: $seq, sign: 1}]->(b)", seq=rep,
                           a=ids[keys // 1000].tolist(), b=ids[keys % 1000].tolist()).consume()
                called = time.perf_counter()
                tx.commit()
                done = time.perf_counter()
            lines.append(f"{kind}: {n:,} births, statement {called - start:.2f} s, commit "
                         f"{done - called:.2f} s, {n / (done - start):,.0f} rel/s")
    with driver.session() as session:
        session.run("MATCH (n:BenchSplit) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20 ROWS"
                    ).consume()
    return lines


def recorder_overhead(quick: bool, every: int) -> dict[str, float]:
    """Blocking time of snapshot() per 1e5 edges, and slowdown of a training loop."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    sizes = [784, 1000, 1000, 1000, 10]
    model = torch.nn.Sequential(*[m for i in range(4) for m in
                                  (torch.nn.Linear(sizes[i], sizes[i + 1]), torch.nn.ReLU())][:-1])
    for module in model:
        if isinstance(module, torch.nn.Linear):  # ~1e5 edges in all, kept sparse by the mask
            mask = (torch.rand_like(module.weight) < 0.036).float()
            torch.nn.utils.prune.custom_from_mask(module, "weight", mask)
    n_edges = sum(int((m.weight != 0).sum()) for m in model if isinstance(m, torch.nn.Linear))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x, y = torch.randn(256, 784), torch.randint(0, 10, (256,))
    steps = 200 if quick else 600

    def train(rec: Recorder | None) -> float:
        start = time.perf_counter()
        for step in range(steps):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            if rec is not None and step % every == 0:
                rec.snapshot(step, metrics={"train_step": float(step)})
        return time.perf_counter() - start

    train(None)  # warm-up
    base = min(train(None) for _ in range(2))
    with Recorder(model, run="bench-recorder", replace=True) as rec:
        with_rec = train(rec)
        blocking = np.array(rec.blocking_seconds)
    driver, _ = open_driver()
    delete_run(driver, "bench-recorder")
    driver.close()
    return {
        "edges": n_edges,
        "snapshots": len(blocking),
        "blocking_ms_median": 1e3 * float(np.median(blocking)),
        "blocking_ms_max": 1e3 * float(blocking.max()),
        "blocking_ms_per_1e5_edges": 1e3 * float(np.median(blocking)) * 1e5 / n_edges,
        "train_s": base,
        "train_with_recorder_s": with_rec,
        "slowdown_pct": 100 * (with_rec / base - 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    parser.add_argument("--writers", default="cypher,plugin",
                        help="snapshot writers to compare, in order (the first is the baseline)")
    parser.add_argument("--no-recorder", action="store_true", help="skip the Recorder part")
    parser.add_argument("--workloads", default="mlp,rnn", help="which of mlp,rnn to run")
    parser.add_argument("--commit-split", action="store_true",
                        help="only time statement vs commit of 100k births, for both writers")
    args = parser.parse_args()
    writers = [w.strip() for w in args.writers.split(",") if w.strip()]
    driver, info = open_driver()
    print(f"database: {info.uri}")
    if args.commit_split:
        for line in commit_split(driver):
            print(line, flush=True)
        return
    naive_rows = 20_000 if args.quick else 50_000
    naive = naive_merge(driver, naive_rows, 2000, 0)
    print(f"baseline (per-row UNWIND ... MERGE, {naive_rows} rows): {naive:,.0f} rel/s")

    print()
    print("| workload | writer | snapshots' edges | SYNAPSE rels | rel ops | seconds | rel ops/s "
          f"| vs {writers[0]} | vs MERGE baseline | bytes/edge-snapshot | bytes/stored rel |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")

    breakdown: list[str] = []

    def report(label: str, snapshots, arch: Architecture, name: str) -> None:
        base = None
        for kind in writers:
            r = run_writer(f"{name}-{kind}", arch, snapshots(), kind)
            base = base or r["rel_per_s"]
            print(f"| {label} | {kind} | {r['edge_snapshots']:,} | {r['relationships']:,} | "
                  f"{r['rel_ops']:,} | {r['seconds']:.1f} | {r['rel_per_s']:,.0f} | "
                  f"{r['rel_per_s'] / base:.1f}x | {r['rel_per_s'] / naive:.1f}x | "
                  f"{r['bytes_per_edge_snapshot']:.1f} | {r['bytes_per_stored_rel']:.1f} |",
                  flush=True)
            parts = ", ".join(f"{k} {v:.1f}" for k, v in r["bytes_per_rel_by_file"].items())
            breakdown.append(f"{label}, {kind}: bytes per stored rel by file: {parts}")
        # deleted only after every writer ran: a store that reuses freed records would hide
        # the next writer's growth
        cleanup = open_driver()[0]
        for kind in writers:
            delete_run(cleanup, f"{name}-{kind}")
        cleanup.close()

    mlp_sizes = [784, 1000, 1000, 1000, 10] if not args.quick else [784, 500, 500, 500, 10]
    n_set = 20 if not args.quick else 8
    workloads = set(args.workloads.split(","))
    if "mlp" in workloads:
        report(f"MLP {'-'.join(map(str, mlp_sizes))}, 90% sparse, SET x{n_set}",
               lambda: set_snapshots(mlp_arch(mlp_sizes), 0.1, n_set, 0.3, 1),
               mlp_arch(mlp_sizes), "bench-mlp-set")
    n_hidden = 1024 if not args.quick else 512
    rnn_arch = Architecture({"hidden": n_hidden},
                            (LayerSpec("W_hh", "hidden", "hidden", n_hidden, n_hidden, "recurrent"),))
    if "rnn" in workloads:
        report(f"RNN {n_hidden}, dense -> 90% over 10",
               lambda: pruning_snapshots(n_hidden, 0.1, 10, 2), rnn_arch, "bench-rnn-prune")
    print()
    for line in breakdown:
        print(line)
    print()
    for every in (() if args.no_recorder else (20, 100)):
        rec = recorder_overhead(args.quick, every)
        print(f"Recorder on an MLP with {rec['edges']:,} edges, a snapshot every {every} steps "
              f"({rec['snapshots']} snapshots): snapshot() median {rec['blocking_ms_median']:.1f} ms "
              f"(max {rec['blocking_ms_max']:.1f}), {rec['blocking_ms_per_1e5_edges']:.1f} ms per "
              f"1e5 edges; training {rec['train_s']:.2f} s -> {rec['train_with_recorder_s']:.2f} s "
              f"({rec['slowdown_pct']:+.1f}%)", flush=True)


if __name__ == "__main__":
    main()
