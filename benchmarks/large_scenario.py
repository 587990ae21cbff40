"""The large scenario of issue 11, end to end: an MLP with ~1e7 weights at 90% sparsity trained
under SET (30% turnover per epoch) with the Recorder taking one snapshot per epoch (20 in all),
against the same training without recording, in the same run.

    python benchmarks/large_scenario.py            # 784-2500-2500-1000-10, 60,000 samples/epoch
    python benchmarks/large_scenario.py --quick    # same model and snapshots, 30,000 samples/epoch
    python benchmarks/large_scenario.py --nice 0,19 --writer plugin

Phases, each training the same model from the same seed on the same data with the project's
Trainer (SET, Adam, batch 256): (1) no recording, the baseline; (2) one per nice value of
--nice, with the Recorder, the managed server restarted at that CPU priority
(`sparsetopo server start --nice N`). Prints, per phase: training wall time and slowdown
against the baseline, the time spent writing snapshots (summed over RunWriter.write calls in
the Recorder's thread) with relationship ops per second, the time the Recorder still needed
after training ended, and the store's growth per stored relationship after a clean restart (as
benchmarks/ingest.py measures it). Data: synthetic (Gaussian inputs, labels from a random linear
teacher), so nothing is downloaded. Needs the managed server (SPARSETOPO_HOME and ports); runs
named bench-large-* are deleted at the end.
"""

from __future__ import annotations

import argparse
import functools
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from sparsetopo.graphstore.connection import open_driver, resolve_connection
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.ingest.recorder import Recorder
from sparsetopo.server.process import ManagedServer
from sparsetopo.training.loop import Trainer
from sparsetopo.training.models import MLP

#: Seconds RunWriter.write spent, and the relationship ops it wrote, per call (filled by the
#: timing wrapper below; only the Recorder's writing thread calls it in this script).
WRITES: list[tuple[float, int]] = []
_LOCK = threading.Lock()


def _timed_write(original: Any) -> Any:
    @functools.wraps(original)
    def write(self: RunWriter, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = original(self, *args, **kwargs)
        with _LOCK:
            WRITES.append((time.perf_counter() - start, result.births + result.deaths))
        return result

    return write


RunWriter.write = _timed_write(RunWriter.write)  # type: ignore[method-assign]
# The project's MLP flattens sequence inputs (control flow torch.fx cannot trace); the Recorder
# then chains its Linear layers in registration order, which is right for it.
warnings.filterwarnings("ignore", message="torch.fx could not trace MLP")


def synthetic_data(n_train: int, n_test: int, n_in: int, n_out: int, batch: int, seed: int):
    """Gaussian inputs, labels = argmax of a random linear teacher: learnable, no download."""
    gen = torch.Generator().manual_seed(seed)
    teacher = torch.randn(n_in, n_out, generator=gen)
    x = torch.randn(n_train + n_test, n_in, generator=gen)
    y = (x @ teacher).argmax(1)
    train = [(x[i:i + batch], y[i:i + batch]) for i in range(0, n_train, batch)]
    test = [(x[n_train + i:n_train + i + 1000], y[n_train + i:n_train + i + 1000])
            for i in range(0, n_test, 1000)]
    return train, test


def accuracy(out: torch.Tensor, y: torch.Tensor) -> float:
    return float((out.argmax(1) == y).float().mean())


def trainer(args: argparse.Namespace, data) -> Trainer:
    sizes = args.sizes
    model = MLP(sizes[0], sizes[1:-1], sizes[-1])
    return Trainer(
        None, None, "set", sparsity=0.9, epochs=args.snapshots - 1, snapshot_every=1, seed=0,
        lr=1e-3, batch_size=args.batch, strategy_options={"zeta": 0.3}, model_obj=model,
        data=data, loss_fn=torch.nn.functional.cross_entropy, metric_fn=accuracy,
        metric_name="accuracy", higher_is_better=True, threads=args.threads,
    )


def restart(nice: int) -> ManagedServer:
    """Clean restart of the managed server at CPU priority ``nice``."""
    os.environ["SPARSETOPO_NICE"] = str(nice)
    server = ManagedServer()
    server.stop()
    server.start()
    return server


def store_bytes(server: ManagedServer) -> int:
    path = server.data_dir / "databases" / "neo4j"
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def nice_of(pid: int) -> set[int]:
    """The nice values of every thread of process ``pid``."""
    values = set()
    for task in os.scandir(f"/proc/{pid}/task"):
        try:
            fields = Path(task.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        values.add(int(fields[16]))  # field 19 of stat; fields[0] is field 3 (state)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="30,000 samples per epoch instead of 60,000 (same model, snapshots)")
    parser.add_argument("--sizes", default="784,2500,2500,1000,10",
                        help="MLP layer sizes, input to output")
    parser.add_argument("--samples", type=int, default=None,
                        help="training samples per epoch (default 60,000; --quick 30,000)")
    parser.add_argument("--snapshots", type=int, default=20,
                        help="snapshots (the initial one plus one per epoch)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's, i.e. every core)")
    parser.add_argument("--nice", default="0,19",
                        help="the server's nice values to measure, one recorded phase each")
    parser.add_argument("--writer", default="auto", help="auto, plugin or cypher")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    samples = args.samples or (30_000 if args.quick else 60_000)
    nices = [int(n) for n in args.nice.split(",") if n.strip()]
    if not resolve_connection(start=False).managed:
        raise SystemExit("this benchmark restarts the managed server; unset NEO4J_URI")
    os.environ["SPARSETOPO_WRITER"] = args.writer

    data = synthetic_data(samples, 2000, args.sizes[0], args.sizes[-1], args.batch, seed=1)
    probe = trainer(args, data)
    n_weights = probe.strategy.n_weights()
    n_edges = probe.strategy.n_edges()
    del probe
    variant = "custom" if args.samples or args.sizes != [784, 2500, 2500, 1000, 10] or (
        args.snapshots != 20) else ("quick" if args.quick else "full")
    print(f"{variant} run: MLP {'-'.join(map(str, args.sizes))} "
          f"({n_weights:,} weights, {n_edges:,} edges at 90% sparsity), SET zeta 0.3, "
          f"{samples:,} samples/epoch, batch {args.batch}, {args.snapshots} snapshots, "
          f"torch threads {args.threads or torch.get_num_threads()}, writer {args.writer}",
          flush=True)
    print(f"load average at start: {loadavg()}", flush=True)

    t = trainer(args, data)
    start = time.perf_counter()
    base = t.run()
    base_s = time.perf_counter() - start
    print(f"baseline (no recording): training {base_s:.1f} s, final accuracy "
          f"{base.final_metric:.3f}", flush=True)

    rows = []
    for nice in nices:
        server = restart(nice)
        pid = server.pid()
        assert pid is not None
        before = store_bytes(server)
        WRITES.clear()
        run = f"bench-large-nice{nice}"
        t = trainer(args, data)
        start = time.perf_counter()
        rec = Recorder(t.model, run=run, replace=True, strategy="set", close_timeout=3600)
        result = t.run(recorder=rec)
        train_s = time.perf_counter() - start
        blocking = sorted(rec.blocking_seconds)
        rec.flush()
        drained_s = time.perf_counter() - start
        threads_nice = nice_of(pid)
        rec.close()
        if len(rec.written) != args.snapshots:
            print(f"  warning: only {len(rec.written)} of {args.snapshots} snapshots written")
        write_s = sum(s for s, _ in WRITES)
        ops = sum(n for _, n in WRITES)
        driver, _ = open_driver()
        records, _, _ = driver.execute_query(
            "MATCH (r:Run {name: $n}) MATCH ()-[s:SYNAPSE]->() WHERE s.run_id = r.run_id "
            "RETURN count(s) AS n, r.writer AS writer", n=run)
        stored, chosen = records[0]["n"], records[0]["writer"]
        driver.close()
        server.stop()
        server.start()
        grown = store_bytes(server) - before
        row = {
            "nice": nice, "threads_nice": sorted(threads_nice), "writer": chosen,
            "train_s": train_s, "slowdown_pct": 100 * (train_s / base_s - 1),
            "drain_s": drained_s - train_s, "write_s": write_s, "ops": ops,
            "ops_per_s": ops / write_s if write_s else float("nan"),
            "snapshots": len(WRITES), "stored": stored, "growth_mb": grown / 1e6,
            "bytes_per_rel": grown / max(stored, 1),
            "block_median_ms": 1e3 * blocking[len(blocking) // 2],
            "block_max_ms": 1e3 * blocking[-1], "accuracy": result.final_metric,
            "load": loadavg().split()[:3],
        }
        rows.append(row)
        print(f"server nice {nice} (threads at {row['threads_nice']}), {chosen} writer: "
              f"training {train_s:.1f} s ({row['slowdown_pct']:+.1f}% vs baseline), Recorder "
              f"done {row['drain_s']:.1f} s after training; {row['snapshots']} snapshots "
              f"written in {write_s:.1f} s, {ops:,} rel ops, {row['ops_per_s']:,.0f} rel ops/s; "
              f"snapshot() median {row['block_median_ms']:.0f} ms, max "
              f"{row['block_max_ms']:.0f} ms; store +{row['growth_mb']:,.0f} MB for "
              f"{stored:,} SYNAPSEs = {row['bytes_per_rel']:.1f} bytes/stored rel; final "
              f"accuracy {row['accuracy']:.3f}; load average {' '.join(row['load'])}",
              flush=True)

    print()
    print("| server nice | writer | training s | slowdown | writes s | rel ops | rel ops/s "
          "| done after training s | snapshot() median / max ms | store growth MB "
          "| bytes/stored rel |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| (no recording) | - | {base_s:.1f} | baseline | - | - | - | - | - | - | - |")
    for r in rows:
        print(f"| {r['nice']} | {r['writer']} | {r['train_s']:.1f} | {r['slowdown_pct']:+.1f}% "
              f"| {r['write_s']:.1f} | {r['ops']:,} | {r['ops_per_s']:,.0f} | {r['drain_s']:.1f} "
              f"| {r['block_median_ms']:.0f} / {r['block_max_ms']:.0f} | {r['growth_mb']:,.0f} "
              f"| {r['bytes_per_rel']:.1f} |")
    print(f"load average at the end: {loadavg()}")
    os.environ["SPARSETOPO_NICE"] = "0"
    restart(0)
    driver, _ = open_driver()
    for nice in nices:
        delete_run(driver, f"bench-large-nice{nice}")
    driver.close()


if __name__ == "__main__":
    main()
