"""The per-snapshot computation behind ``Store.analyze``: plain numpy in, typed results out.

Everything here is picklable and free of database handles, so it runs in worker processes. A
:class:`~sparsetopo.api.plan.SnapshotTask` computes balance statistics and motif Z-scores of
every part of the :class:`~sparsetopo.api.plan.AnalysisPlan` (the whole-model neuron graph,
every maximal feed-forward chain, every recurrent layer); a
:class:`~sparsetopo.api.plan.PairTask` computes NNSTD and edge overlap between two snapshots
(of one run or of two runs with the same architecture), per layer and summarised. The plan and
the task and result types live in :mod:`sparsetopo.api.plan`.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np

from sparsetopo.analysis import (
    LayeredGraph,
    SignedGraph,
    cycle4_balance,
    edge_overlap,
    motif_zscores,
    nnstd,
    nnstd_recurrent,
)
from sparsetopo.analysis.balance import balance_from_counts
from sparsetopo.analysis.exact import exact_stats
from sparsetopo.analysis.nulls import DENSE_MAX_CELLS, layered_counts
from sparsetopo.api.plan import (
    AnalysisOptions,
    AnalysisPlan,
    Edges,
    GraphPart,
    PairResult,
    PairTask,
    PartResult,
    SnapshotResult,
    SnapshotTask,
    model_offsets,
    plan_analysis,
)
from sparsetopo.errors import InputError
from sparsetopo.topology import Architecture, LayerEdges

__all__ = [
    "DEFAULT_WORKERS",
    "FFL_BALANCE_Z_NULL",
    "AnalysisOptions",
    "build_graph",
    "dispatch",
    "edges_of",
    "model_graph",
    "pair_stats",
    "plan_graph",
    "run_parallel",
    "shutdown_pools",
    "snapshot_task",
]

#: Below this many tasks the work runs in-process (spawning workers costs about a second)...
INPROCESS_MAX_TASKS = 6
#: ... unless the tasks carry more edges than this: a ResNet-18 snapshot (703k edges) computes
#: for seconds, so two of them use both workers (decision 0021).
INPROCESS_MAX_EDGES = 500_000
DEFAULT_WORKERS = 2

#: Recorded with ``ffl_balance_z``: the null it is computed against (exact moments, no sampling).
FFL_BALANCE_Z_NULL = "sign_shuffle:exact"

_EMPTY = (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32))


def plan_graph(arch: Architecture, layer: str | None = None) -> GraphPart:
    """Return the primary analysed graph of an architecture (see :func:`~sparsetopo.api.plan.plan_analysis`).

    Kept for callers that analyse one graph: ``.layers`` is the chain (or recurrent layer, or
    every layer for the whole-model graph), ``.kind`` its kind.
    """
    return plan_analysis(arch, layer).primary_part


def edges_of(layers: dict[str, LayerEdges]) -> Edges:
    """Convert GraphSnapshot layers to plain arrays (what crosses the process boundary).

    Parameters
    ----------
    layers : dict of str to LayerEdges
        A snapshot's layers.

    Returns
    -------
    dict
        Layer name -> (src, dst, w) arrays.
    """
    return {name: (e.src, e.dst, e.w) for name, e in layers.items()}


def _sparse(edges: Edges, name: str, shape: tuple[int, int]) -> Any:
    import scipy.sparse as sp

    src, dst, w = edges.get(name, _EMPTY)
    return sp.csr_matrix(
        (np.asarray(w, dtype=np.float64), (np.asarray(src, dtype=np.int64),
                                           np.asarray(dst, dtype=np.int64))),
        shape=shape,
    )


def model_graph(plan: AnalysisPlan, edges: Edges) -> SignedGraph:
    """Build the whole-model neuron graph of one snapshot.

    Parameters
    ----------
    plan : AnalysisPlan
        Groups and layers (:func:`~sparsetopo.api.plan.plan_analysis`).
    edges : dict
        Layer name -> (src, dst, w) arrays.

    Returns
    -------
    SignedGraph
        Unit ``u`` of group ``g`` is node ``offset[g] + u``
        (:func:`~sparsetopo.api.plan.model_offsets`); every layer's edges between them.

    Notes
    -----
    Two layers between the same pair of groups (the gates of an LSTM all read and write the
    hidden group) can both connect the same two units; the model graph holds one edge there,
    weighted by the sum of the layers' weights (its sign is the sign of the net influence), and
    no edge where the sum is exactly zero. Each such layer is analysed on its own as well.
    """
    off = model_offsets(plan.groups)
    srcs, dsts, ws = [], [], []
    for name in plan.layer_order:
        src, dst, w = edges.get(name, _EMPTY)
        if not len(src):
            continue
        g_src, g_dst = plan.group_of[name]
        srcs.append(np.asarray(src, dtype=np.int64) + off[g_src])
        dsts.append(np.asarray(dst, dtype=np.int64) + off[g_dst])
        ws.append(np.asarray(w, dtype=np.float64))
    n = sum(plan.groups.values())
    if not srcs:
        return SignedGraph.from_edges(np.zeros(0, np.int64), np.zeros(0, np.int64),
                                      np.zeros(0), n_nodes=n)
    s, d, w = np.concatenate(srcs), np.concatenate(dsts), np.concatenate(ws)
    keys = s * n + d
    uniq, inverse = np.unique(keys, return_inverse=True)
    if len(uniq) < len(keys):  # parallel layers: sum the weights of each unit pair
        w = np.bincount(inverse, weights=w, minlength=len(uniq))
        s, d = uniq // n, uniq % n
    return SignedGraph.from_edges(s, d, w, n_nodes=n)


def build_graph(plan: AnalysisPlan | GraphPart, edges: Edges,
                part: GraphPart | None = None) -> SignedGraph | LayeredGraph:
    """Build the analysis layer's graph object of one part of one snapshot.

    Parameters
    ----------
    plan : AnalysisPlan
        The plan (:func:`~sparsetopo.api.plan.plan_analysis`).
    edges : dict
        Layer name -> (src, dst, w) arrays of the snapshot.
    part : GraphPart, optional
        Which part (default: the plan's primary part).

    Returns
    -------
    SignedGraph or LayeredGraph
        The whole-model graph or a recurrent layer as a SignedGraph; a chain (or one layer) as
        a LayeredGraph.
    """
    if isinstance(plan, GraphPart):  # a lone part: no model graph possible
        part, shapes = plan, None
    else:
        part = part or plan.primary_part
        shapes = plan.shapes
    if part.kind == "model":
        if not isinstance(plan, AnalysisPlan):
            raise InputError("the whole-model graph needs the AnalysisPlan")
        return model_graph(plan, edges)
    if part.kind == "recurrent":
        src, dst, w = edges.get(part.layers[0], _EMPTY)
        return SignedGraph.from_edges(
            np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64),
            np.asarray(w, dtype=np.float64), n_nodes=part.sizes[0],
        )
    sizes = part.sizes
    shape_of = (shapes or {}) if shapes else {
        name: (sizes[i], sizes[i + 1]) for i, name in enumerate(part.layers)}
    return LayeredGraph.from_matrices([_sparse(edges, name, shape_of[name]) for name in part.layers])


def _f(x: Any) -> float:
    return float(x) if x is not None else math.nan


def _signed_balance(g: SignedGraph, legacy: bool) -> dict[str, Any]:
    # one pass over the edges with bitset neighbour sets gives the census, the FFL counts, the
    # triangle balance and the exact sign-shuffle moments (decision 0021: ResNet-18's model
    # graph 0.2 s, against 11.5 s for the separate products); the same integers as
    # ffl_counts, triangle_balance and sign_shuffle_ffl_moments
    st = exact_stats(g)
    counts = st.ffl
    pooled = balance_from_counts(counts, "pooled")
    paper = balance_from_counts(counts, "paper")
    props: dict[str, Any] = dict(
        ffl_balance=pooled.ratio,
        ffl_balance_paper=paper.ratio,
        unbalanced_ffl=pooled.unbalanced,
        ffl_total=pooled.total,
        triangle_unbalanced_fraction=st.triangle_unbalanced_fraction,
    )
    if not legacy:  # the whole census and the signed FFL census, exact
        props.update({f"triad_{code}": int(v) for code, v in counts.census.items()})
        for cls, total in counts.total.items():
            props[f"ffl_{cls}_total"] = int(total)
            props[f"ffl_{cls}_balanced"] = int(counts.balanced.get(cls, 0))
    # exact sign-shuffle moments (no sampling: identical snapshots get identical Z)
    mom = st.moments
    props["ffl_balance_null"] = _f(mom.ratio_mean)
    props["ffl_balance_z"] = _f(mom.z)
    props["ffl_balance_z_null"] = FFL_BALANCE_Z_NULL
    return props


def _cycle4_props(g: LayeredGraph) -> dict[str, Any]:
    # the bitset pass of the layer-switching null on the graph itself (decision 0021): the
    # numbers of cycle4_balance without its sparse products
    if any(m.shape[0] * m.shape[1] > DENSE_MAX_CELLS for m in g.layers):
        c4 = cycle4_balance(g)
        return dict(cycle4_balance=c4.ratio, cycle4_unbalanced=c4.unbalanced,
                    cycle4_total=c4.total)  # fmt: skip
    c = layered_counts(g)
    bal, tot = c["cycle4_balanced"], c["cycle4_total"]
    return dict(cycle4_balance=bal / tot if tot else math.nan, cycle4_unbalanced=tot - bal,
                cycle4_total=tot)  # fmt: skip


def _part_stats(
    plan: AnalysisPlan, part: GraphPart, options: AnalysisOptions, seed: int, edges: Edges
) -> PartResult:
    g = build_graph(plan, edges, part)
    out = PartResult(part.name, part.kind, part.layers)
    if options.balance:
        if isinstance(g, SignedGraph):
            out.props.update(_signed_balance(g, plan.legacy))
        else:
            out.props.update(_cycle4_props(g))
    # Monte Carlo motif Z-scores of the whole-model graph are out of reach at model scale (5
    # switching samples of ResNet-18's 703k edges took 68 s): the model graph gets its exact
    # census and exact FFL-balance Z, chains and recurrent layers get the Monte Carlo Z-scores
    if options.motifs and part.kind != "model":
        null_model = options.null_model(part)
        df = motif_zscores(g, null=null_model, n=options.n_null, seed=seed)
        out.motifs = [
            {"name": str(name), "count": _f(r["count"]), "z": _f(r["z"]), "z_se": _f(r["z_se"]),
             "null_mean": _f(r["null_mean"]), "null_sd": _f(r["null_sd"]), "p": _f(r["p"]),
             "null_model": null_model, "part": part.name}
            for name, r in df.iterrows()
        ]
        out.props["motif_z_se_max"] = _f(df["z_se"].max())  # the noisiest Z, for `history`
    return out


def snapshot_task(task: SnapshotTask) -> SnapshotResult:
    """Compute the balance statistics and motif Z-scores of every part of one snapshot.

    Parameters
    ----------
    task : SnapshotTask
        The plan, the options, the snapshot's ``seq`` (offsets the seed) and its edges.

    Returns
    -------
    SnapshotResult
        ``props``: the primary part's statistics under the snapshot property names (balance
        ratios, the exact sign-shuffle ``ffl_balance_z`` with ``ffl_balance_z_null``,
        ``analysis_*`` markers); ``motifs``: the motif rows of every part (None when motifs
        were not asked for); ``parts``: every part's statistics, and per layer its edge count
        and density.

    Notes
    -----
    ``ffl_balance_z`` is exact: (observed balanced count - null mean) / null SD with the
    closed-form moments of :func:`~sparsetopo.analysis.sign_shuffle_ffl_moments`; the motif
    Z-scores are Monte Carlo estimates from :func:`~sparsetopo.analysis.motif_zscores`.

    References
    ----------
    .. [1] R. Milo, S. Shen-Orr, S. Itzkovitz, N. Kashtan, D. Chklovskii and U. Alon, "Network
       motifs: simple building blocks of complex networks", Science 298(5594), 824-827 (2002).
       doi:10.1126/science.298.5594.824
    .. [2] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0
    """
    plan, options, seq = task.plan, task.options, task.seq
    edges = task.snapshot
    if not isinstance(edges, dict):
        raise InputError("snapshot_task needs the snapshot's edges (resolve the task first)")
    seed = options.seed + seq
    result = SnapshotResult(seq)
    motifs: list[dict[str, Any]] = []
    for part in plan.parts:
        if part.kind == "layer":
            name = part.layers[0]
            n_in, n_out = plan.shapes[name]
            n_edges = len(edges.get(name, _EMPTY)[0])
            result.parts.append(PartResult(part.name, part.kind, part.layers, {
                "n_edges": n_edges,
                "density": n_edges / (n_in * n_out) if n_in * n_out else math.nan}))
            continue
        pr = _part_stats(plan, part, options, seed, edges)
        if pr.motifs is not None:
            motifs.extend(pr.motifs)
        if part.name == plan.primary:
            result.props.update(pr.props)
        result.parts.append(pr)
    if options.balance:
        result.props["analysis_balance"] = plan.balance_marker
    if options.motifs:
        result.motifs = motifs
        result.props["analysis_motifs"] = options.motif_spec(plan)
    return result


def _nnstd_parts(plan: AnalysisPlan, a: Edges, b: Edges) -> dict[str, float]:
    """Per-layer NNSTD of every chain (Liu's matching along the chain) and recurrent layer."""
    per_layer: dict[str, float] = {}
    for part in plan.parts:
        if part.kind == "chain":
            lr = nnstd(build_graph(plan, a, part), build_graph(plan, b, part))  # type: ignore[arg-type]
            per_layer.update(zip(part.layers, (float(v) for v in lr.per_layer), strict=True))
            if plan.legacy:
                return per_layer | {"__distance__": float(lr.distance)}
        elif part.kind == "recurrent":
            name = part.layers[0]
            n = part.sizes[0]
            kwargs: dict[str, Any] = {}
            if part.input_layer:
                kwargs["inp1"] = _sparse(a, part.input_layer, plan.shapes[part.input_layer])
                kwargs["inp2"] = _sparse(b, part.input_layer, plan.shapes[part.input_layer])
            if part.readout_layer:
                kwargs["out1"] = _sparse(a, part.readout_layer, plan.shapes[part.readout_layer])
                kwargs["out2"] = _sparse(b, part.readout_layer, plan.shapes[part.readout_layer])
            rr = nnstd_recurrent(_sparse(a, name, (n, n)), _sparse(b, name, (n, n)), **kwargs)
            if plan.legacy:
                return {str(k): float(v) for k, v in rr.per_layer.items()} | {
                    "__distance__": float(rr.distance)}
            per_layer[name] = float(rr.per_layer.get("recurrent", rr.distance))
    return per_layer


def pair_stats(
    plan: AnalysisPlan, a: Edges, b: Edges, do_nnstd: bool = True, do_overlap: bool = True
) -> PairResult:
    """Compare two snapshots of the same architecture by NNSTD and edge overlap.

    Parameters
    ----------
    plan : AnalysisPlan
        Which layers form which graphs (:func:`~sparsetopo.api.plan.plan_analysis`).
    a, b : dict
        Layer name -> (src, dst, w) arrays of the two snapshots.
    do_nnstd, do_overlap : bool
        Which of the two comparisons to compute.

    Returns
    -------
    PairResult
        ``nnstd``: {distance, per_layer, layers}; ``overlap``: {jaccard, shared, only_a,
        only_b, sign_flips} over all layers; ``layer_overlap`` the same per layer.

    Notes
    -----
    NNSTD (Liu et al. 2020) matches neurons layer by layer along a feed-forward chain; here
    every maximal chain is matched on its own (the chain's input group in index order) and every
    recurrent layer by :func:`~sparsetopo.analysis.nnstd_recurrent`; ``distance`` is the mean of
    the per-layer distances. The legacy shapes (one chain, one recurrent layer) give exactly
    the distance of :func:`~sparsetopo.analysis.nnstd` / ``nnstd_recurrent`` of that graph.
    """
    out = PairResult(())
    if do_nnstd:
        per = _nnstd_parts(plan, a, b)
        distance = per.pop("__distance__", None)
        layers = list(per) if plan.legacy else [n for n in plan.layer_order if n in per]
        values = [per[n] for n in layers]
        if distance is None:
            distance = float(np.mean(values)) if values else math.nan
        out.nnstd = {"distance": float(distance), "per_layer": values, "layers": layers}
    if do_overlap:
        names = sorted(set(a) | set(b))
        la = {n: LayerEdges(*a.get(n, _EMPTY)) for n in names}
        lb = {n: LayerEdges(*b.get(n, _EMPTY)) for n in names}
        ov = edge_overlap(la, lb)
        out.overlap = {"jaccard": float(ov.jaccard), "shared": int(ov.shared),
                       "only_a": int(ov.only_a), "only_b": int(ov.only_b),
                       "sign_flips": int(ov.sign_flips)}
        for name, row in ov.per_layer.iterrows():
            out.layer_overlap[str(name)] = {
                "jaccard": float(row["jaccard"]), "shared": int(row["shared"]),
                "only_a": int(row["only_a"]), "only_b": int(row["only_b"]),
                "sign_flips": int(row["sign_flips"])}
    return out


def pair_task(task: PairTask) -> PairResult:
    """Run :func:`pair_stats` on a resolved :class:`~sparsetopo.api.plan.PairTask`."""
    if not isinstance(task.a, dict) or not isinstance(task.b, dict):
        raise InputError("pair_task needs the snapshots' edges (resolve the task first)")
    result = pair_stats(task.plan, task.a, task.b, task.do_nnstd, task.do_overlap)
    result.key = task.key
    return result


def _context() -> Any:
    # fork where available: workers start in milliseconds with numpy/scipy already imported, and
    # a script calling analyze() needs no `if __name__ == "__main__"` guard (spawn and forkserver
    # re-import the main module). Workers only run numpy code, never the driver.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _init_worker() -> None:
    # workers share the machine's cores: one BLAS thread each (threads on small matrices cost
    # more than they save, 10-30x on a loaded machine)
    from threadpoolctl import threadpool_limits

    from sparsetopo.api.executors import die_with_parent

    threadpool_limits(1)
    die_with_parent()  # no orphaned workers after SIGTERM / kill -9 of the caller


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """Return a worker pool kept for the life of the process (reused by every call)."""
    pool = _POOLS.get(workers)
    if pool is None:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(),
                                   initializer=_init_worker)  # fmt: skip
        _POOLS[workers] = pool
    return pool


@atexit.register
def shutdown_pools() -> None:
    """Stop the kept worker pools (also run at interpreter exit)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def _task_edges(tasks: Sequence[Any]) -> int:
    """Edges the resolved tasks carry (snapshot tasks only; the work grows with them)."""
    total = 0
    for task in tasks:
        snap = getattr(task, "snapshot", None)
        if isinstance(snap, dict):
            total += sum(len(v[0]) for v in snap.values())
    return total


def run_parallel(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers: int | None = None,
    on_done: Callable[[Any], None] | None = None,
) -> list[Any]:
    """Run ``fn(task)`` for every task, in worker processes unless there are few, small tasks.

    Parameters
    ----------
    fn : callable
        A picklable function of one task.
    tasks : sequence
        The tasks (picklable).
    workers : int or None
        Worker processes (default 2); with workers <= 1, or only a handful of tasks carrying at
        most ``INPROCESS_MAX_EDGES`` edges together, the work runs in-process.
    on_done : callable or None
        Called with every result as it arrives.

    Returns
    -------
    list
        The results, in completion order.

    Notes
    -----
    The worker processes are kept and reused by later calls (one BLAS thread each).
    """
    workers = DEFAULT_WORKERS if workers is None else workers
    workers = max(1, min(workers, os.cpu_count() or 1, len(tasks) or 1))
    results: list[Any] = []
    if workers <= 1 or (len(tasks) <= INPROCESS_MAX_TASKS
                        and _task_edges(tasks) <= INPROCESS_MAX_EDGES):  # fmt: skip
        from threadpoolctl import threadpool_limits

        # as in the workers: one BLAS thread (the products are small; measured 10x faster
        # in-process on a busy 2-core machine)
        with threadpool_limits(1):
            for task in tasks:
                res = fn(task)
                results.append(res)
                if on_done:
                    on_done(res)
        return results
    pool = _pool(workers)
    try:
        futures = [pool.submit(fn, task) for task in tasks]
        for fut in as_completed(futures):
            res = fut.result()
            results.append(res)
            if on_done:
                on_done(res)
    except BaseException:
        # a failed or interrupted call must not leave queued work or a broken pool behind
        _POOLS.pop(workers, None)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return results


def dispatch(task: SnapshotTask | PairTask) -> SnapshotResult | PairResult:
    """Run one task of either kind (so snapshot and pair tasks share one worker pool).

    Parameters
    ----------
    task : SnapshotTask or PairTask
        A resolved task (its snapshots read).

    Returns
    -------
    SnapshotResult or PairResult
        The task's result.

    Raises
    ------
    InputError
        For anything else.
    """
    if isinstance(task, SnapshotTask):
        return snapshot_task(task)
    if isinstance(task, PairTask):
        return pair_task(task)
    raise InputError(f"unknown task {type(task).__name__}")
