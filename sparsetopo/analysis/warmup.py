"""Compile the analysis kernels ahead of their first use (``scripts/setup.sh`` does).

The null-model samplers run compiled numba kernels. Compiling them takes about three minutes of
CPU on a 2-core machine, once per kernel source: the machine code is cached where every checkout
finds it (:mod:`sparsetopo.analysis._jit`), so later runs load it in about a second. Without this
step the first analysis pays the compile time (and every worker process of a parallel analysis
pays it at the same time).
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from sparsetopo.analysis import _jit, _kernels, _layered_census
from sparsetopo.analysis.graphs import LayeredGraph, SignedGraph
from sparsetopo.analysis.nulls import DirectedChain, layer_census_samples
from sparsetopo.analysis.zscores import GRAPH_NULLS, LAYERED_NULLS, motif_zscores

__all__ = ["compile_kernels", "kernels_compiled"]

_GRAPH_FAMILIES = ["triads", "signed_triads", "dyads", "ffl_balance", "triangle_balance"]
_LAYERED_FAMILIES = ["layered", "layered_signed", "cycle4_balance"]


def kernels_compiled() -> bool:
    """Whether the compiled kernels of this version are in the cache.

    Returns
    -------
    bool
        True when both kernel modules have cached machine code for their current source.

    Examples
    --------
    >>> isinstance(kernels_compiled(), bool)
    True
    """
    return all(_jit.is_compiled(str(m.__file__)) for m in (_kernels, _layered_census))


def compile_kernels() -> float:
    """Run every sampler once on tiny graphs, compiling (or loading) each kernel it uses.

    The graphs are a sparse and a dense signed graph (the dense one's chain proposes over its
    complement) and a three-layer stack; the directed chain runs every kind of move and census,
    and every null model of :func:`motif_zscores` runs with its default families and all the
    others, so every kernel is compiled for the argument types the analyses pass.

    Returns
    -------
    float
        Seconds taken (about 180 s on two cores when nothing is cached, about 1 s when
        everything is).

    Examples
    --------
    >>> compile_kernels() >= 0.0  # doctest: +SKIP
    True
    """
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    n = 12
    pairs = [(u, v) for u in range(n) for v in range(n) if u != v]
    for density in (0.2, 0.8):  # sparse, and denser than half the pairs (complement moves)
        keep = [p for p in pairs if rng.random() < density]
        src, dst = (np.array(x) for x in zip(*keep, strict=True))
        w = rng.choice([-1.0, 1.0], size=len(keep)) * rng.uniform(0.5, 1.5, size=len(keep))
        g = SignedGraph.from_edges(src, dst, w, n_nodes=n)
        for keep_mutual in (False, True):
            # every kernel of the directed chain: untracked and tracked moves, bitset census
            chain = DirectedChain(g, keep_mutual, False, rng)
            chain.burn(1.0)
            chain.next_sample(1.0)
            chain.check()
            chain.sample_weights()
            chain.bit_census_samples(2, 1.0)
            chain.set_tracking(True)
            chain.census_samples(2, 1.0)
        for null in GRAPH_NULLS:  # the analyses' own calls, default families and the rest
            motif_zscores(g, null=null, n=8, seed=0)
            motif_zscores(g, _GRAPH_FAMILIES, null=null, n=8, seed=0)
    sizes = (5, 6, 4)
    mats = [rng.uniform(-1, 1, size=(a, b)) * (rng.random((a, b)) < 0.5)
            for a, b in itertools.pairwise(sizes)]  # fmt: skip
    lg = LayeredGraph.from_matrices(mats)
    layer_census_samples(lg, 2, rng)
    for null in LAYERED_NULLS:
        motif_zscores(lg, null=null, n=8, seed=0)
        motif_zscores(lg, _LAYERED_FAMILIES, null=null, n=8, seed=0)
    return time.perf_counter() - start


if __name__ == "__main__":  # python -m sparsetopo.analysis.warmup (scripts/setup.sh)
    compile_kernels()
    _jit.prune_cache([str(m.__file__) for m in (_kernels, _layered_census)])
