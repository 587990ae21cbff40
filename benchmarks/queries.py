"""Benchmark of the Cypher library on a ~1e6-relationship run and a 500-snapshot run.

    SPARSETOPO_HOME=... python benchmarks/queries.py [--small] [--keep]

Builds (with RunWriter) a recurrent run whose snapshots turn over a fraction of their edges,
then times, warm, the median of several repetitions of each library query and of a baseline
that computes the same answer in the same process (the answers are checked equal):

* ``overlap`` between adjacent and between distant snapshots (target <= 1 s), both variants:
  plain Cypher and the server plugin's procedure (``overlap_plugin``, ``sparsetopo.overlap``),
  vs reading both snapshots into numpy and intersecting them;
* ``history`` of a 500-snapshot run (target <= 50 ms) vs the same query with the index defeated
  (``toString(s.run_id) = toString(r.run_id)`` forces a label scan, whatever the id's type);
* ``turnover``, ``edges_alive`` and ``survivors`` vs reading the snapshots into numpy.

Prints one Markdown table row per query (for docs/benchmarks.md). Runs are named bench-q-* and
deleted at the end (unless --keep). ``--queries overlap`` times only the overlap rows (and skips
the 500-snapshot run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from sparsetopo.api.store import Store
from sparsetopo.graphstore.reader import read_snapshot
from sparsetopo.graphstore.runs import delete_run, find_run
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


def _keys_signs(store: Store, name: str, step: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    e = read_snapshot(store.driver, name, step=step).layers["W_rec"]
    return e.keys(n), np.sign(e.w)


def numpy_turnover(store: Store, name: str, steps: list[int], n: int) -> list[tuple[int, ...]]:
    """(n_edges, births, deaths, sign_flips) per snapshot from the snapshots read into numpy."""
    rows: list[tuple[int, ...]] = []
    prev: tuple[np.ndarray, np.ndarray] | None = None
    for step in steps:
        k, s = _keys_signs(store, name, step, n)
        if prev is None:
            rows.append((len(k), len(k), 0, 0))
        else:
            pk, ps = prev
            common, ia, ib = np.intersect1d(pk, k, assume_unique=True, return_indices=True)
            rows.append((len(k), len(k) - len(common), len(pk) - len(common),
                         int(np.count_nonzero(ps[ia] != s[ib]))))
        prev = (k, s)
    return rows


def numpy_survivors(store: Store, name: str, steps: list[int], n: int) -> int:
    """Edges alive with an unchanged sign at every snapshot of ``steps``."""
    keys, signs = _keys_signs(store, name, steps[0], n)
    for step in steps[1:]:
        k, s = _keys_signs(store, name, step, n)
        _, ia, ib = np.intersect1d(keys, k, assume_unique=True, return_indices=True)
        same = signs[ia] == s[ib]
        keys, signs = keys[ia][same], signs[ia][same]
    return len(keys)


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


QUERIES = ("overlap", "history", "turnover", "edges_alive", "survivors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="~1e5 relationships (quick check)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark runs")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--queries", default=",".join(QUERIES),
                        help=f"comma-separated subset of {','.join(QUERIES)}")
    args = parser.parse_args()
    wanted = {q.strip() for q in args.queries.split(",") if q.strip()}
    if not wanted or wanted - set(QUERIES):
        parser.error(f"--queries takes a comma-separated subset of {','.join(QUERIES)}")
    n, m, snaps = (600, 60_000, 6) if args.small else (2_000, 600_000, 8)
    tag = uuid.uuid4().hex[:6]
    big, hist = f"bench-q-big-{tag}", f"bench-q-hist-{tag}"
    store = Store.connect()
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    try:
        t = time.perf_counter()
        rels = evolving_run(store, big, n, m, snaps, turnover=0.08, flips=0.01)
        build = time.perf_counter() - t
        print(f"built {big}: {snaps} snapshots of {m:,} edges, {rels:,} SYNAPSE relationships "
              f"in {build:.1f} s ({rels / build:,.0f} rel/s)")
        if "history" in wanted:
            t = time.perf_counter()
            evolving_run(store, hist, 30, 60, 500, turnover=0.1, flips=0.02, seed=1)
            print(f"built {hist}: 500 snapshots in {time.perf_counter() - t:.1f} s")

        steps = [10 * k for k in range(snaps)]
        sb = steps[-1]
        print("\n| query | size | ours | baseline (same run) | baseline / ours |")
        print("|---|---|---|---|---|")

        def report(what: str, size: str, ours: float, base: float, base_name: str) -> None:
            print(f"| {what} | {size} | {ours * 1e3:,.1f} ms | {base_name}: {base * 1e3:,.1f} ms "
                  f"| {base / ours:.2f}x |")

        size = f"{rels:,} rels"
        for sa in (sb - 10, steps[1]) if "overlap" in wanted else ():
            qb, ref = timed(lambda sa=sa: numpy_overlap(store, big, sa, sb), args.reps)
            answers = {}
            for variant in ("cypher", "plugin"):
                q, res = timed(lambda sa=sa, v=variant: store.query(
                    "overlap", run=big, step_a=sa, step_b=sb, backend_=v), args.reps)
                row = res.set_index("layer").loc["*"]
                assert row.shared == ref["shared"] and row.sign_flips == ref["sign_flips"], (
                    row, ref)
                answers[variant] = res
                name = "`overlap`" if variant == "cypher" else "`overlap_plugin` (procedure)"
                report(f"{name} steps {sa} vs {sb}", size, q, qb, "read both into numpy")
            assert answers["cypher"].equals(answers["plugin"]), answers

        if "history" in wanted:
            text = get_query("history").text
            naive = text.replace("MATCH (s:Snapshot {run_id: r.run_id})\nWHERE s.complete = true",
                                 "MATCH (s:Snapshot)\nWHERE toString(s.run_id) = toString(r.run_id) "
                                 "AND s.complete = true")
            assert naive != text
            q_hist, h = timed(lambda: store.query("history", run=hist, key="sparsity"), args.reps)
            q_naive, h2 = timed(lambda: store.cypher(naive, run=hist, key="sparsity"), args.reps)
            assert len(h) == 500 and h.equals(h2), (len(h), len(h2))
            report("`history` (one statistic)", "500 snapshots", q_hist, q_naive, "index defeated")

        if "turnover" in wanted:
            q, df = timed(lambda: store.query("turnover", run=big), args.reps)
            qb, ref_rows = timed(lambda: numpy_turnover(store, big, steps, n), args.reps)
            got = [tuple(int(x) for x in r) for r in
                   df[["n_edges", "births", "deaths", "sign_flips"]].itertuples(index=False)]
            assert got[1:] == ref_rows[1:] and got[0][0] == ref_rows[0][0], (got, ref_rows)
            report(f"`turnover` ({snaps} snapshots)", size, q, qb, "read all into numpy")

        if "edges_alive" in wanted:
            q, df = timed(lambda: store.query("edges_alive", run=big, step=sb, layer="W_rec"),
                          args.reps)
            qb, (keys, _) = timed(lambda: _keys_signs(store, big, sb, n), args.reps)
            assert np.array_equal(np.sort(df["src"].to_numpy() * n + df["dst"].to_numpy()), keys)
            report(f"`edges_alive` ({len(df):,} rows)", size, q, qb, "read into numpy")

        if "survivors" in wanted:
            sa = steps[1]
            q, df = timed(lambda: store.query("survivors", run=big, layer="W_rec", step_a=sa,
                                              step_b=sb), args.reps)
            span = [s for s in steps if sa <= s <= sb]
            qb, count = timed(lambda: numpy_survivors(store, big, span, n), args.reps)
            assert len(df) == count, (len(df), count)
            report(f"`survivors` steps {sa}..{sb}", size, q, qb, "read all into numpy")
        if "history" in wanted:
            q_api, _ = timed(lambda: store.history(hist), args.reps)
            print(f"\nStore.history of 500 snapshots (all properties -> DataFrame): "
                  f"{q_api * 1e3:.1f} ms")
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        if not args.keep:
            for name in (big, hist):
                if find_run(store.driver, name) is not None:
                    delete_run(store.driver, name)
        store.close()


if __name__ == "__main__":
    main()
