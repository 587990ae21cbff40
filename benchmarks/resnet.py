"""ResNet-18 (torchvision, 90% global magnitude pruning) recorded and analysed at defaults.

    nice -n 10 python benchmarks/resnet.py             # 2 snapshots (90% and 92% pruned)
    nice -n 10 python benchmarks/resnet.py --quick     # 1 snapshot, 10 null samples

Builds ``torchvision.models.resnet18(num_classes=10)`` with random weights, prunes 90% of its
conv and linear weights by global L1 magnitude, writes the snapshot (the Recorder's extraction,
``ingest.extract.ModelGraph``, through ``RunWriter``), prunes to 92% and writes a second one,
then runs ``Store.analyze`` at its defaults (2 workers, 100 null samples, NNSTD and overlap).

Baselines, in the same run, on the first snapshot in this process with no database (one BLAS
thread), split into the whole-model graph (exact census, FFL balance, triangle balance and the
exact sign-shuffle Z) and the chains (Monte Carlo layered motif Z-scores):

- *before*: the implementation before decision 0021, kept here: ``ffl_counts``,
  ``triangle_balance`` and ``sign_shuffle_ffl_moments`` (dense products) for the model graph;
  the int8-matrix swap kernel and sparse products of the observed counts for the chains;
- *now*: ``pipeline.snapshot_task`` as ``analyze`` runs it.

The script checks that both give identical statistics and motif rows. The ratio analyse /
in-process is the cost of reading, dispatching and writing back. Uses the resolved database
(NEO4J_* or the managed server); the run is deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
from numba import njit

from sparsetopo.analysis import _layered_census as LC
from sparsetopo.analysis import cycle4_balance, ffl_counts, triangle_balance
from sparsetopo.analysis import zscores as Z
from sparsetopo.analysis._sparse_kernels import words
from sparsetopo.analysis.balance import balance_from_counts
from sparsetopo.analysis.fastnull import sign_shuffle_ffl_moments
from sparsetopo.analysis.nulls import _LayerState, _moves
from sparsetopo.api import pipeline as P
from sparsetopo.api.pipeline import _part_stats, edges_of
from sparsetopo.api.plan import AnalysisOptions, plan_analysis
from sparsetopo.api.store import Store
from sparsetopo.graphstore.runs import delete_run
from sparsetopo.graphstore.writer import RunWriter


# ---------------------------------------------------------------- the implementation before 0021
@njit(inline="always")
def _old_below(rs, m):  # type: ignore[no-untyped-def]
    # _kernels._below: xoshiro256** (Blackman and Vigna 2018), 53 bits scaled to [0, m)
    s0, s1, s2, s3 = rs[0], rs[1], rs[2], rs[3]
    x = s1 * np.uint64(5)
    r = ((x << np.uint64(7)) | (x >> np.uint64(57))) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << np.uint64(45)) | (s3 >> np.uint64(19))
    rs[0], rs[1], rs[2], rs[3] = s0, s1, s2, s3
    k = np.int64(np.float64(r >> np.uint64(11)) * (1.0 / 9007199254740992.0) * m)
    return k if k < m else m - 1


@njit
def _old_swaps(M, src, dst, n_moves, rs):  # type: ignore[no-untyped-def]
    # _kernels.bipartite_swaps: int8 matrix, int64 edge arrays
    m = len(src)
    acc = 0
    if m < 2:
        return 0
    for _ in range(n_moves):
        i = _old_below(rs, m)
        j = _old_below(rs, m)
        if i == j:
            continue
        a, b, c, d = src[i], dst[i], src[j], dst[j]
        if a == c or b == d or M[a, d] != 0 or M[c, b] != 0:
            continue
        M[a, b] = 0
        M[c, d] = 0
        M[a, d] = 1
        M[c, b] = 1
        dst[i] = d
        dst[j] = b
        acc += 1
    return acc


def _old_layer_census_samples(lg: Any, n: int, seed: Any, burn_in: float, thin: float,
                              independent: bool) -> np.ndarray:  # fmt: skip
    rng = seed
    states = [_LayerState(m) for m in lg.layers]
    while True:
        rs = rng.integers(0, 2**64, size=4, dtype=np.uint64)
        if rs.any():
            break
    eptr = np.zeros(len(states) + 1, dtype=np.int64)
    np.cumsum([len(st.src) for st in states], out=eptr[1:])
    src = np.concatenate([st.src for st in states]).astype(np.int64)
    dst = np.concatenate([st.dst for st in states]).astype(np.int64)
    pos = np.concatenate([st.w > 0 for st in states])
    for k, st in enumerate(states):
        st.src, st.dst = src[eptr[k] : eptr[k + 1]], dst[eptr[k] : eptr[k + 1]]
        st._start = (st.src.copy(), st.dst.copy(), st.M.copy())
    sizes = np.asarray(lg.sizes, dtype=np.int64)
    offs = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offs[1:])
    w = words(int(sizes.max()))
    op, on, ip, inn = (np.zeros((int(offs[-1]), w), dtype=np.uint64) for _ in range(4))
    masks = np.zeros((len(sizes), w), dtype=np.uint64)
    live = np.ones(int(offs[-1]), dtype=np.bool_)
    reach = np.zeros(w, dtype=np.uint64)
    out = np.zeros((n, LC.LAYERED_ROW), dtype=np.int64)
    for i in range(n):
        for st in states:
            if i == 0 or independent:
                if i:
                    st.reset()
                _old_swaps(st.M, st.src, st.dst, _moves(burn_in, len(st.src)), rs)
            else:
                _old_swaps(st.M, st.src, st.dst, _moves(thin, len(st.src)), rs)
        LC.layered_row(sizes, offs, eptr, src, dst, pos, op, on, ip, inn, masks, live, reach, out[i])
    return out


def _old_signed_balance(g: Any, legacy: bool) -> dict[str, Any]:
    counts = ffl_counts(g)
    pooled, paper = balance_from_counts(counts, "pooled"), balance_from_counts(counts, "paper")
    props: dict[str, Any] = dict(
        ffl_balance=pooled.ratio, ffl_balance_paper=paper.ratio, unbalanced_ffl=pooled.unbalanced,
        ffl_total=pooled.total, triangle_unbalanced_fraction=triangle_balance(g).fraction_unbalanced)
    props.update({f"triad_{code}": int(v) for code, v in counts.census.items()})
    for cls, total in counts.total.items():
        props[f"ffl_{cls}_total"] = int(total)
        props[f"ffl_{cls}_balanced"] = int(counts.balanced.get(cls, 0))
    mom = sign_shuffle_ffl_moments(g)
    props.update(ffl_balance_null=P._f(mom.ratio_mean), ffl_balance_z=P._f(mom.z),
                 ffl_balance_z_null=P.FFL_BALANCE_Z_NULL)
    return props


def _old_cycle4_props(g: Any) -> dict[str, Any]:
    c4 = cycle4_balance(g)
    return dict(cycle4_balance=c4.ratio, cycle4_unbalanced=c4.unbalanced, cycle4_total=c4.total)


@contextlib.contextmanager
def before_0021() -> Iterator[None]:
    """Run the analyze path with the implementation before decision 0021."""
    saved = (P._signed_balance, P._cycle4_props, Z._layered_real, Z.layer_census_samples)
    P._signed_balance = _old_signed_balance  # type: ignore[assignment]
    P._cycle4_props = _old_cycle4_props
    Z._layered_real = lambda g, families: None  # type: ignore[assignment]
    Z.layer_census_samples = _old_layer_census_samples  # type: ignore[assignment]
    try:
        yield
    finally:
        P._signed_balance, P._cycle4_props, Z._layered_real, Z.layer_census_samples = saved


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _time_parts(plan: Any, parts: list[Any], options: AnalysisOptions, edges: Any) -> tuple[float, list[Any]]:
    t0 = time.perf_counter()
    out = [_part_stats(plan, p, options, 0, edges) for p in parts]
    return time.perf_counter() - t0, out


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
    model_part = [p for p in plan.parts if p.kind == "model"]
    chains = [p for p in plan.parts if p.kind == "chain"]
    print(f"resnet18: {len(arch.layers)} layers, {len(arch.groups)} groups, "
          f"{sum(arch.groups.values())} units, {snaps[0].n_edges:,} edges at 90%; "
          f"{len(chains)} maximal chains")

    edges = edges_of(snaps[0].layers)
    opts = AnalysisOptions(n_null=n_null)
    with threadpool_limits(1):
        # compile (or load) both implementations' kernels before timing
        tiny = AnalysisOptions(n_null=2)
        _time_parts(plan, chains[:1], tiny, edges)
        with before_0021():
            _time_parts(plan, chains[:1], tiny, edges)
            t_old_model, old_m = _time_parts(plan, model_part, opts, edges)
            t_old_chains, old_c = _time_parts(plan, chains, opts, edges)
        t_model, new_m = _time_parts(plan, model_part, opts, edges)
        t_chains, new_c = _time_parts(plan, chains, opts, edges)
    for old, new in zip(old_m + old_c, new_m + new_c, strict=True):
        assert old.props.keys() == new.props.keys(), old.part
        assert all(_same(v, new.props[k]) for k, v in old.props.items()), old.part
        assert old.motifs == new.motifs or all(
            all(_same(v, y[k]) for k, v in x.items())
            for x, y in zip(old.motifs or [], new.motifs or [], strict=True)), old.part
    old_base, base = t_old_model + t_old_chains, t_model + t_chains
    print(f"in process, no database, 1 snapshot (identical statistics and motif rows): "
          f"before 0021: model graph {t_old_model:.1f} s, chains' motifs ({n_null} nulls) "
          f"{t_old_chains:.1f} s, total {old_base:.1f} s; now: model graph {t_model:.1f} s, "
          f"chains' motifs {t_chains:.1f} s, total {base:.1f} s; ratio before / now "
          f"{old_base / base:.1f}")

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
                  f"snapshot (target <= 30 s); ratio to the in-process path {per / base:.2f}, "
                  f"to the in-process path before 0021 {per / old_base:.2f}")
            h = store.history(name)
            print(f"ffl_balance {h['ffl_balance'].round(4).tolist()}, ffl_balance_z "
                  f"{h['ffl_balance_z'].round(3).tolist()}")
        finally:
            delete_run(store.driver, name, store.database)


if __name__ == "__main__":
    main()
