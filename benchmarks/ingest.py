"""Ingestion benchmark: the server-side plugin writer and the Cypher writer (same workloads, same
server, same run), the Recorder, and the naive per-row MERGE baseline.

    python benchmarks/ingest.py            # full workloads (a few minutes)
    python benchmarks/ingest.py --quick    # smaller workloads
    python benchmarks/ingest.py --quick --writers plugin,cypher --no-recorder
    python benchmarks/ingest.py --quick --no-recorder --warm 2 --profile   # warm server, split
    python benchmarks/ingest.py --commit-split   # statement vs commit of one transaction

Workloads (issue 3): an MLP 784-1000-1000-1000-10 at 90% sparsity rewired SET-style for 20
snapshots, and a 1024-unit RNN pruned from dense to 90% over 10 snapshots. Prints relationships
per second, the Recorder's blocking time per snapshot, the training slowdown, and bytes on disk
per stored edge and per edge-snapshot of weights, and per writer run the server's CPU time and
GC pauses (with --profile, where the server's time goes). Each writer run starts after a clean
restart (for the store size), i.e. on a cold server; --warm measures a warm one. Uses the
resolved database (NEO4J_* or the managed server of SPARSETOPO_HOME); runs named bench-* are
deleted afterwards.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.utils.prune

import sparsetopo.graphstore.writer as writer_module
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


def server_counters(driver) -> tuple[float, float]:
    """(CPU seconds of the managed server's process so far, or NaN on an external server;
    seconds of GC pauses so far, from the server's JMX beans)."""
    cpu = float("nan")
    pid = ManagedServer().pid() if resolve_connection(start=False).managed else None
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    records, _, _ = driver.execute_query(
        "CALL dbms.queryJmx('java.lang:type=GarbageCollector,*') YIELD attributes "
        "RETURN sum(attributes.CollectionTime.value) AS ms")
    return cpu, (records[0]["ms"] or 0) / 1e3


#: Where a sampled server stack is attributed (first match from the top of the list wins).
#: The frames are Neo4j 5.26's; "statement" is everything else the Bolt workers run.
PROFILE_PARTS = (
    ("commit: tx state -> record commands", "KernelTransactionImplementation.extractCommands"),
    ("commit: index updates", "IndexTransactionApplierFactory"),
    ("commit: index updates", "applyPendingIndexUpdates"),
    ("commit: apply records to the store", "InternalTransactionCommitProcess.applyToStore"),
    ("commit: append to the transaction log", "InternalTransactionCommitProcess.appendToLog"),
    ("commit: other", "KernelTransactionImplementation.commit"),
    ("statement: sparsetopo procedures", "dev.sparsetopo.neo4j.SnapshotWriter"),
)


class Profiler:
    """Java Flight Recorder on the managed server (needs jcmd and jfr from the JDK): the share
    of sampled server stacks per part of a write (statement vs the parts of the commit)."""

    def __init__(self) -> None:
        self.pid = ManagedServer().pid()
        self.file = Path(tempfile.mkdtemp(prefix="sparsetopo-jfr-")) / "server.jfr"
        self.ok = bool(self.pid and shutil.which("jcmd") and shutil.which("jfr"))

    def start(self) -> None:
        if self.ok:
            subprocess.run(["jcmd", str(self.pid), "JFR.start", "name=sparsetopo-bench",
                            "settings=profile", f"filename={self.file}"],
                           capture_output=True, check=True)

    def stop(self) -> str:
        if not self.ok:
            return "profile: needs the managed server and the JDK's jcmd and jfr"
        subprocess.run(["jcmd", str(self.pid), "JFR.stop", "name=sparsetopo-bench"],
                       capture_output=True, check=True)
        out = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample",
                              "--stack-depth", "128", str(self.file)],
                             capture_output=True, text=True, check=True).stdout
        shutil.rmtree(self.file.parent, ignore_errors=True)
        counts: collections.Counter[str] = collections.Counter()
        total = 0
        for sample in out.split("jdk.ExecutionSample")[1:]:
            thread = re.search(r'sampledThread = "([^"]+)"', sample)
            frames = re.findall(r"^\s+([\w.$<>]+)\(", sample, re.M)
            if not frames:
                continue
            total += 1
            if not (thread and "BoltWorker" in thread.group(1)):
                counts["background threads (checkpoint, sampling, network)"] += 1
                continue
            stack = "\n".join(frames)
            part = next((label for label, marker in PROFILE_PARTS if marker in stack),
                        "statement: Cypher, Bolt, fence and other")
            counts[part] += 1
        shares = ", ".join(f"{label} {100 * n / max(total, 1):.0f}%"
                           for label, n in counts.most_common())
        return f"server profile ({total} samples of Java stacks; GC threads not sampled): {shares}"


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


def run_writer(name: str, arch: Architecture, snapshots, writer_kind: str = "auto",
               profile: bool = False, sizes: bool = True) -> dict[str, float]:
    """Write ``snapshots`` as run ``name``; with ``sizes``, restart the server before and after
    to measure the store's growth (the restart also makes the server's JIT start cold)."""
    before = store_bytes() if sizes else None
    parts_before = dict(STORE_PARTS)
    driver, _ = open_driver()
    profiler = Profiler() if profile else None
    if profiler is not None:
        profiler.start()
    cpu0, gc0 = server_counters(driver)
    client0 = time.process_time()
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
    client_cpu = time.process_time() - client0
    cpu1, gc1 = server_counters(driver)
    split = profiler.stop() if profiler is not None else ""
    records, _, _ = driver.execute_query(
        "MATCH (r:Run {name: $n}) MATCH ()-[s:SYNAPSE]->() WHERE s.run_id = r.run_id "
        "RETURN count(s) AS n", n=name)
    stored = records[0]["n"]
    driver.close()
    after = store_bytes() if sizes else None
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
        "server_cpu_s": cpu1 - cpu0,
        "gc_s": gc1 - gc0,
        "client_cpu_s": client_cpu,
        "profile": split,
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
            cpu0, gc0 = server_counters(driver)
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
            cpu1, gc1 = server_counters(driver)
            lines.append(f"{kind}: {n:,} births, statement {called - start:.2f} s, commit "
                         f"{done - called:.2f} s, {n / (done - start):,.0f} rel/s; server CPU "
                         f"{cpu1 - cpu0:.2f} s, GC pauses {gc1 - gc0:.2f} s")
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
    parser.add_argument("--plugin-chunk", type=int, default=None,
                        help=f"relationship ops per transaction of the plugin writer (default "
                             f"{writer_module.PLUGIN_CHUNK:,})")
    parser.add_argument("--profile", action="store_true",
                        help="sample the managed server with Java Flight Recorder during each "
                             "writer run and print where its time goes")
    parser.add_argument("--warm", type=int, default=0, metavar="ROUNDS",
                        help="no server restarts (so no store sizes): a warm-up round, then "
                             "ROUNDS rounds of every writer in turn on the warm server")
    args = parser.parse_args()
    if args.plugin_chunk:
        writer_module.PLUGIN_CHUNK = args.plugin_chunk
    writers = [w.strip() for w in args.writers.split(",") if w.strip()]
    driver, info = open_driver()
    print(f"database: {info.uri}; plugin writer: {writer_module.PLUGIN_CHUNK:,} rel ops per "
          f"transaction; load average {Path('/proc/loadavg').read_text().strip()}")
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

    def report_warm(label: str, snapshots, arch: Architecture, name: str) -> None:
        # no restarts: round 0 warms the server's JIT and is not shown; the writers alternate
        # so that a change in the machine's load hits both
        for rep in range(args.warm + 1):
            base = None
            for kind in writers:
                r = run_writer(f"{name}-{kind}", arch, snapshots(), kind, args.profile and rep > 0,
                               sizes=False)
                cleanup = open_driver()[0]
                delete_run(cleanup, f"{name}-{kind}")
                cleanup.close()
                if rep == 0:
                    continue
                base = base or r["rel_per_s"]
                print(f"| {label} | {kind}, warm round {rep} | {r['edge_snapshots']:,} | "
                      f"{r['relationships']:,} | {r['rel_ops']:,} | {r['seconds']:.1f} | "
                      f"{r['rel_per_s']:,.0f} | {r['rel_per_s'] / base:.1f}x | "
                      f"{r['rel_per_s'] / naive:.1f}x | - | - |", flush=True)
                breakdown.append(
                    f"{label}, {kind}, warm round {rep}: server CPU {r['server_cpu_s']:.1f} s "
                    f"({1e5 * r['server_cpu_s'] / r['rel_ops']:.2f} s per 1e5 rel ops), GC "
                    f"pauses {r['gc_s']:.1f} s, client CPU {r['client_cpu_s']:.1f} s, wall "
                    f"{r['seconds']:.1f} s; load average "
                    f"{Path('/proc/loadavg').read_text().split()[0]}")
                if r["profile"]:
                    breakdown.append(f"{label}, {kind}, warm round {rep}: {r['profile']}")

    def report(label: str, snapshots, arch: Architecture, name: str) -> None:
        if args.warm:
            report_warm(label, snapshots, arch, name)
            return
        base = None
        for kind in writers:
            r = run_writer(f"{name}-{kind}", arch, snapshots(), kind, args.profile)
            base = base or r["rel_per_s"]
            print(f"| {label} | {kind} | {r['edge_snapshots']:,} | {r['relationships']:,} | "
                  f"{r['rel_ops']:,} | {r['seconds']:.1f} | {r['rel_per_s']:,.0f} | "
                  f"{r['rel_per_s'] / base:.1f}x | {r['rel_per_s'] / naive:.1f}x | "
                  f"{r['bytes_per_edge_snapshot']:.1f} | {r['bytes_per_stored_rel']:.1f} |",
                  flush=True)
            parts = ", ".join(f"{k} {v:.1f}" for k, v in r["bytes_per_rel_by_file"].items())
            breakdown.append(f"{label}, {kind}: bytes per stored rel by file: {parts}")
            breakdown.append(
                f"{label}, {kind}: server CPU {r['server_cpu_s']:.1f} s "
                f"({1e5 * r['server_cpu_s'] / r['rel_ops']:.2f} s per 1e5 rel ops), GC pauses "
                f"{r['gc_s']:.1f} s, client CPU {r['client_cpu_s']:.1f} s, wall "
                f"{r['seconds']:.1f} s; load average {Path('/proc/loadavg').read_text().split()[0]}")
            if r["profile"]:
                breakdown.append(f"{label}, {kind}: {r['profile']}")
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
