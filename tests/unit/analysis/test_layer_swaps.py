"""layer_swaps (bit rows, packed edges) makes exactly the moves of _kernels.bipartite_swaps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sparsetopo.analysis import _kernels as K
from sparsetopo.analysis import _sparse_kernels as SK


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_layer_swaps_equal_bipartite_swaps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # layers with no edge, one edge, a full layer, and targets spanning several words
    shapes = [(3, 4), (5, 2), (70, 130), (2, 3), (40, 200), (9, 9)]
    dens = [0.0, None, 0.3, 1.0, 0.1, 0.5]
    mats = []
    for (a, b), p in zip(shapes, dens, strict=True):
        m = np.zeros((a, b), dtype=np.int8)
        if p is None:
            m[1, 1] = 1
        else:
            m[rng.random((a, b)) < p] = 1
        mats.append(m)
    moves = np.array([int(rng.integers(0, 4000)) for _ in mats], dtype=np.int64)
    rs0 = K.rng_state(rng)
    # reference: the old kernel, layer after layer on one random stream
    rs_ref = rs0.copy()
    ref_dst, ref_acc = [], 0
    for m, k in zip(mats, moves, strict=True):
        src, dst = (np.ascontiguousarray(x, dtype=np.int64) for x in np.nonzero(m))
        mm = m.copy()
        ref_acc += K.bipartite_swaps(mm, src, dst, int(k), rs_ref)
        ref_dst.append(dst)
    eptr = np.zeros(len(mats) + 1, dtype=np.int64)
    np.cumsum([int(m.sum()) for m in mats], out=eptr[1:])
    edges = np.zeros((int(eptr[-1]), 2), dtype=np.int32)
    row0 = np.zeros(len(mats) + 1, dtype=np.int64)
    np.cumsum([m.shape[0] for m in mats], out=row0[1:])
    bits = np.zeros((int(row0[-1]), SK.words(200)), dtype=np.uint64)
    for k, m in enumerate(mats):
        s, d = np.nonzero(m)
        edges[eptr[k] : eptr[k + 1]] = np.stack([s, d], axis=1)
        for x, y in zip(s, d, strict=True):
            bits[row0[k] + x, y >> 6] |= np.uint64(1) << np.uint64(y & 63)
    rs = rs0.copy()
    acc = SK.layer_swaps(bits, row0, edges, eptr, moves, rs)
    assert acc == ref_acc > 0
    assert (rs == rs_ref).all()
    for k, m in enumerate(mats):
        assert edges[eptr[k] : eptr[k + 1], 1].tolist() == ref_dst[k].tolist()
        # the bit rows hold exactly the swapped edges, degrees kept
        dense = np.zeros(m.shape, dtype=np.int8)
        dense[edges[eptr[k] : eptr[k + 1], 0], edges[eptr[k] : eptr[k + 1], 1]] = 1
        got = np.unpackbits(bits[row0[k] : row0[k + 1]].view(np.uint8), axis=1,
                            bitorder="little")[:, : m.shape[1]]  # fmt: skip
        assert (got == dense).all()
        assert (dense.sum(axis=0) == m.sum(axis=0)).all() and (dense.sum(axis=1) == m.sum(axis=1)).all()


@pytest.mark.parametrize(("sizes", "density", "seed"),
                         [((4, 3), 0.5, 0), ((6, 5, 4), 0.35, 1), ((30, 70, 12, 5), 0.06, 2),
                          ((70, 66, 20, 9, 3), 0.05, 3), ((5, 4, 3), 0.0, 4),
                          ((3, 130, 2), 0.4, 5)])  # fmt: skip
def test_layered_counts_and_cycle4_props_equal_the_functions(
    sizes: tuple[int, ...], density: float, seed: int
) -> None:
    import math

    from sparsetopo.analysis import LayeredGraph, cycle4_balance, layered_motifs
    from sparsetopo.analysis.layered import LAYERED_MOTIFS
    from sparsetopo.analysis.nulls import layered_counts
    from sparsetopo.api.pipeline import _cycle4_props

    rng = np.random.default_rng(seed)
    mats = [rng.choice([-1.0, 1.0], (a, b)) * (rng.random((a, b)) < density)
            for a, b in itertools.pairwise(sizes)]  # fmt: skip
    lg = LayeredGraph.from_matrices(mats)
    c = layered_counts(lg)
    lm = layered_motifs(lg)
    c4 = cycle4_balance(lg)
    assert [c[k] for k in LAYERED_MOTIFS] == [lm.counts[k] for k in LAYERED_MOTIFS]
    assert (c["cycle4_balanced"], c["cycle4_total"]) == (c4.balanced, c4.total)
    props = _cycle4_props(lg)
    assert (props["cycle4_unbalanced"], props["cycle4_total"]) == (c4.unbalanced, c4.total)
    assert props["cycle4_balance"] == c4.ratio or (math.isnan(c4.ratio) and math.isnan(props["cycle4_balance"]))
