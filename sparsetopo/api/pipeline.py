"""The per-snapshot computation behind ``Store.analyze``: plain numpy in, plain dicts out.

Everything here is pickle-able and free of database handles, so it runs in worker processes.
A snapshot task computes balance statistics and motif Z-scores of one snapshot; a pair task
computes NNSTD and edge overlap between two snapshots (of one run or of two runs with the same
architecture). The graph analysed is

* the recurrent layer (kind "recurrent") as a :class:`~sparsetopo.analysis.SignedGraph` when the
  architecture has one (its input and readout layers join the NNSTD matching and the overlap);
* otherwise the feed-forward stack in position order as a
  :class:`~sparsetopo.analysis.LayeredGraph`.
"""

from __future__ import annotations

import atexit
import itertools
import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
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
    triangle_balance,
)
from sparsetopo.analysis.balance import balance_from_counts
from sparsetopo.analysis.fastnull import sign_shuffle_ffl_moments
from sparsetopo.analysis.triads import _dense_all, _dense_sign, _ffl_result
from sparsetopo.errors import InputError
from sparsetopo.topology import Architecture, LayerEdges

#: Below this many tasks the work runs in-process (spawning workers costs about a second).
INPROCESS_MAX_TASKS = 6
DEFAULT_WORKERS = 2

#: Recorded with ``ffl_balance_z``: the null it is computed against (exact moments, no sampling).
FFL_BALANCE_Z_NULL = "sign_shuffle:exact"

#: Plain edges of one snapshot: layer name -> (src, dst, w) arrays.
Edges = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class GraphPlan:
    """How a run's layers become the analysed graph (derived once from the Architecture).

    Attributes
    ----------
    kind : str
        "recurrent" (a SignedGraph) or "layered" (a LayeredGraph).
    layers : tuple of str
        The recurrent layer, or the feed-forward chain in position order.
    sizes : tuple of int
        ``(n,)`` for recurrent; ``(n_0, ..., n_L)`` for layered.
    input_layer, readout_layer : str or None
        The recurrent layer's single input and readout layers, if any (they join the NNSTD
        matching).
    shapes : dict of str to (int, int)
        ``(n_in, n_out)`` of every layer of the architecture.
    """

    kind: str  # "recurrent" or "layered"
    layers: tuple[str, ...]  # the recurrent layer, or the feed-forward chain in order
    sizes: tuple[int, ...]  # (n,) for recurrent; (n_0, ..., n_L) for layered
    input_layer: str | None = None
    readout_layer: str | None = None
    shapes: dict[str, tuple[int, int]] = field(default_factory=dict)


def plan_graph(arch: Architecture, layer: str | None = None) -> GraphPlan:
    """Choose the analysed graph of an architecture (rules in the module docstring).

    Parameters
    ----------
    arch : Architecture
        The run's layers.
    layer : str or None
        Analyse this one layer instead of the default choice.

    Returns
    -------
    GraphPlan
        The plan.

    Raises
    ------
    InputError
        If the run has no layers or its feed-forward layers do not chain.
    KeyError
        If ``layer`` is not a layer of ``arch``.
    """
    shapes = {s.name: (s.n_in, s.n_out) for s in arch.layers}
    recurrent = [s for s in arch.layers if s.kind == "recurrent" and s.src_group == s.dst_group]
    if layer is not None:
        spec = arch.layer(layer)
        if spec.src_group == spec.dst_group:
            recurrent = [spec]
        else:
            return GraphPlan("layered", (spec.name,), (spec.n_in, spec.n_out), shapes=shapes)
    if recurrent:
        rec = recurrent[0]
        group = rec.src_group
        inputs = [s for s in arch.layers if s.dst_group == group and s.src_group != group]
        readouts = [s for s in arch.layers if s.src_group == group and s.dst_group != group]
        return GraphPlan(
            "recurrent",
            (rec.name,),
            (rec.n_in,),
            inputs[0].name if len(inputs) == 1 else None,
            readouts[0].name if len(readouts) == 1 else None,
            shapes,
        )
    chain = sorted(arch.layers, key=lambda s: s.position)
    if not chain:
        raise InputError("the run has no layers to analyse")
    for prev, nxt in itertools.pairwise(chain):
        if prev.dst_group != nxt.src_group or prev.n_out != nxt.n_in:
            raise InputError(
                f"layers {prev.name!r} -> {nxt.name!r} do not chain ({prev.dst_group}/{prev.n_out} "
                f"feeds {nxt.src_group}/{nxt.n_in}); pass layer=NAME to analyse one layer"
            )
    sizes = (chain[0].n_in, *tuple(s.n_out for s in chain))
    return GraphPlan("layered", tuple(s.name for s in chain), sizes, shapes=shapes)


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

    src, dst, w = edges.get(name, (np.zeros(0), np.zeros(0), np.zeros(0)))
    return sp.csr_matrix(
        (np.asarray(w, dtype=np.float64), (np.asarray(src, dtype=np.int64),
                                           np.asarray(dst, dtype=np.int64))),
        shape=shape,
    )


def build_graph(plan: GraphPlan, edges: Edges) -> SignedGraph | LayeredGraph:
    """Build the analysis layer's graph object for one snapshot.

    Parameters
    ----------
    plan : GraphPlan
        Which layers form the graph (:func:`plan_graph`).
    edges : dict
        Layer name -> (src, dst, w) arrays of the snapshot.

    Returns
    -------
    SignedGraph or LayeredGraph
        The recurrent layer as a SignedGraph, or the feed-forward chain as a LayeredGraph.
    """
    if plan.kind == "recurrent":
        name = plan.layers[0]
        src, dst, w = edges.get(name, (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
        return SignedGraph.from_edges(
            np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64),
            np.asarray(w, dtype=np.float64), n_nodes=plan.sizes[0],
        )
    return LayeredGraph.from_matrices(
        [_sparse(edges, name, plan.shapes[name]) for name in plan.layers]
    )


@dataclass(frozen=True)
class AnalysisOptions:
    """What analyze computes.

    Attributes
    ----------
    motifs : bool
        Compute motif Z-scores.
    balance : bool
        Compute the balance statistics (and the exact sign-shuffle Z of the FFL balance).
    null : str or None
        Null model of the motif Z-scores; None picks "switching" (recurrent) or
        "layer_switching" (layered).
    n_null : int
        Null samples per snapshot.
    seed : int
        Base seed; snapshot ``seq`` uses ``seed + seq``.
    """

    motifs: bool = True
    balance: bool = True
    null: str | None = None
    n_null: int = 100
    seed: int = 0

    def null_model(self, plan: GraphPlan) -> str:
        """Return the null model used for ``plan`` (``null``, or the default for its kind)."""
        if self.null is not None:
            return self.null
        return "switching" if plan.kind == "recurrent" else "layer_switching"

    def motif_spec(self, plan: GraphPlan) -> str:
        """Return the spec recorded on the snapshot (analysis_motifs).

        A different spec means the motif Z-scores are recomputed.
        """
        return f"{self.null_model(plan)}:n={self.n_null}:seed={self.seed}"


def _f(x: Any) -> float:
    return float(x) if x is not None else math.nan


def snapshot_task(
    plan: GraphPlan, options: AnalysisOptions, seq: int, edges: Edges
) -> dict[str, Any]:
    """Compute the balance statistics and motif Z-scores of one snapshot.

    Parameters
    ----------
    plan : GraphPlan
        Which layers form the graph.
    options : AnalysisOptions
        What to compute.
    seq : int
        The snapshot's sequence number (offsets the seed).
    edges : dict
        Layer name -> (src, dst, w) arrays of the snapshot.

    Returns
    -------
    dict
        ``{"seq", "props", "motifs"}``: Snapshot properties to store (balance ratios, the
        exact sign-shuffle ``ffl_balance_z`` with ``ffl_balance_z_null``, ``analysis_*``
        markers) and the motif rows (None when motifs were not asked for).

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
    g = build_graph(plan, edges)
    props: dict[str, Any] = {}
    motifs: list[dict[str, Any]] | None = None
    seed = options.seed + seq
    if options.balance:
        if isinstance(g, SignedGraph):
            # one census for both modes, dense products (workers run one BLAS thread)
            counts = _ffl_result(*_dense_all(_dense_sign(g), True, blas=True))
            pooled = balance_from_counts(counts, "pooled")
            paper = balance_from_counts(counts, "paper")
            props.update(
                ffl_balance=pooled.ratio,
                ffl_balance_paper=paper.ratio,
                unbalanced_ffl=pooled.unbalanced,
                ffl_total=pooled.total,
                triangle_unbalanced_fraction=triangle_balance(g).fraction_unbalanced,
            )
            # exact sign-shuffle moments (no sampling: identical snapshots get identical Z)
            mom = sign_shuffle_ffl_moments(g)
            props["ffl_balance_null"] = _f(mom.ratio_mean)
            props["ffl_balance_z"] = _f(mom.z)
            props["ffl_balance_z_null"] = FFL_BALANCE_Z_NULL
        else:
            c4 = cycle4_balance(g)
            props.update(cycle4_balance=c4.ratio, cycle4_unbalanced=c4.unbalanced,
                         cycle4_total=c4.total)
        props["analysis_balance"] = "v1"
    if options.motifs:
        null_model = options.null_model(plan)
        df = motif_zscores(g, null=null_model, n=options.n_null, seed=seed)
        motifs = [
            {"name": str(name), "count": _f(r["count"]), "z": _f(r["z"]), "z_se": _f(r["z_se"]),
             "null_mean": _f(r["null_mean"]), "null_sd": _f(r["null_sd"]), "p": _f(r["p"]),
             "null_model": null_model}
            for name, r in df.iterrows()
        ]
        props["analysis_motifs"] = options.motif_spec(plan)
        props["motif_z_se_max"] = _f(df["z_se"].max())  # the noisiest Z, for `history`
    return {"seq": seq, "props": props, "motifs": motifs}


def pair_stats(
    plan: GraphPlan, a: Edges, b: Edges, do_nnstd: bool = True, do_overlap: bool = True
) -> dict[str, Any]:
    """Compare two snapshots of the same architecture by NNSTD and edge overlap.

    Parameters
    ----------
    plan : GraphPlan
        Which layers form the graph (:func:`plan_graph`).
    a, b : dict
        Layer name -> (src, dst, w) arrays of the two snapshots.
    do_nnstd, do_overlap : bool
        Which of the two comparisons to compute.

    Returns
    -------
    dict
        ``"nnstd"``: {distance, per_layer, layers}; ``"overlap"``: {jaccard, shared, only_a,
        only_b, sign_flips} over all layers (each only when asked for).
    """
    out: dict[str, Any] = {}
    if do_nnstd:
        if plan.kind == "recurrent":
            name = plan.layers[0]
            n = plan.sizes[0]
            kwargs: dict[str, Any] = {}
            if plan.input_layer:
                kwargs["inp1"] = _sparse(a, plan.input_layer, plan.shapes[plan.input_layer])
                kwargs["inp2"] = _sparse(b, plan.input_layer, plan.shapes[plan.input_layer])
            if plan.readout_layer:
                kwargs["out1"] = _sparse(a, plan.readout_layer, plan.shapes[plan.readout_layer])
                kwargs["out2"] = _sparse(b, plan.readout_layer, plan.shapes[plan.readout_layer])
            rr = nnstd_recurrent(_sparse(a, name, (n, n)), _sparse(b, name, (n, n)), **kwargs)
            out["nnstd"] = {"distance": float(rr.distance),
                            "per_layer": [float(v) for v in rr.per_layer.values()],
                            "layers": list(rr.per_layer)}
        else:
            lr = nnstd(build_graph(plan, a), build_graph(plan, b))  # type: ignore[arg-type]
            out["nnstd"] = {"distance": float(lr.distance),
                            "per_layer": [float(v) for v in lr.per_layer],
                            "layers": list(plan.layers)}
    if do_overlap:
        names = sorted(set(a) | set(b))
        empty = (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32))
        la = {n: LayerEdges(*a.get(n, empty)) for n in names}
        lb = {n: LayerEdges(*b.get(n, empty)) for n in names}
        ov = edge_overlap(la, lb)
        out["overlap"] = {"jaccard": float(ov.jaccard), "shared": int(ov.shared),
                          "only_a": int(ov.only_a), "only_b": int(ov.only_b),
                          "sign_flips": int(ov.sign_flips)}
    return out


def pair_task(
    plan: GraphPlan, key: tuple[Any, ...], a: Edges, b: Edges, do_nnstd: bool, do_overlap: bool
) -> dict[str, Any]:
    """Run :func:`pair_stats` and tag the result with ``key`` (``{"key": key, ...}``)."""
    return {"key": key, **pair_stats(plan, a, b, do_nnstd, do_overlap)}


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

    threadpool_limits(1)


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


def run_parallel(
    fn: Callable[..., dict[str, Any]],
    tasks: Sequence[tuple[Any, ...]],
    workers: int | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``fn(*task)`` for every task, in worker processes unless there are few tasks.

    Parameters
    ----------
    fn : callable
        A picklable function returning a dict.
    tasks : sequence of tuple
        The argument tuples.
    workers : int or None
        Worker processes (default 2); with workers <= 1 or only a handful of tasks the work runs
        in-process.
    on_done : callable or None
        Called with every result as it arrives.

    Returns
    -------
    list of dict
        The results, in completion order.

    Notes
    -----
    The worker processes are kept and reused by later calls (one BLAS thread each).
    """
    workers = DEFAULT_WORKERS if workers is None else workers
    workers = max(1, min(workers, os.cpu_count() or 1, len(tasks) or 1))
    results: list[dict[str, Any]] = []
    if workers <= 1 or len(tasks) <= INPROCESS_MAX_TASKS:
        from threadpoolctl import threadpool_limits

        # as in the workers: one BLAS thread (the products are small; measured 10x faster
        # in-process on a busy 2-core machine)
        with threadpool_limits(1):
            for task in tasks:
                res = fn(*task)
                results.append(res)
                if on_done:
                    on_done(res)
        return results
    pool = _pool(workers)
    try:
        futures = [pool.submit(fn, *task) for task in tasks]
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


def dispatch(kind: str, *args: Any) -> dict[str, Any]:
    """Run one task of either kind (so snapshot and pair tasks share one worker pool).

    Parameters
    ----------
    kind : {"snapshot", "pair"}
        :func:`snapshot_task` or :func:`pair_task`.
    *args
        That function's arguments.

    Returns
    -------
    dict
        The task's result with ``"kind"`` added.

    Raises
    ------
    InputError
        For an unknown kind.
    """
    if kind == "snapshot":
        return {"kind": kind, **snapshot_task(*args)}
    if kind == "pair":
        return {"kind": kind, **pair_task(*args)}
    raise InputError(f"unknown task kind {kind!r}")
