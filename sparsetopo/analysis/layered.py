"""Feed-forward (layered) motifs of sparse MLPs (Zahn, Daniel, Kutz 2024) and 4-cycle balance.

In a strictly layered network there are no triangles; the motifs are counted on the binary masks
``M_l`` (shape ``(n_l, n_{l+1})``) with degree formulas and a few sparse products:

========== ==================================================================
first      edges: nnz(M_l)
second     diverging = sum over sources C(out, 2); converging = sum over targets
           C(in, 2); chain = nnz(M_l M_{l+1}) (connected endpoint pairs)
third      diverging C(out, 3); converging C(in, 3); chain = nnz(M_l M_{l+1}
           M_{l+2}); bi-fan = sum over source pairs C(shared targets, 2);
           bi-parallel = sum over (i, k) C((M_l M_{l+1})_ik, 2)
========== ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sparsetopo.analysis.graphs import LayeredGraph, sign_split
from sparsetopo.errors import InputError

FIRST_ORDER = ("edge",)
SECOND_ORDER = ("diverging2", "converging2", "chain2")
THIRD_ORDER = ("diverging3", "converging3", "chain3", "bifan", "biparallel")
LAYERED_MOTIFS: tuple[str, ...] = FIRST_ORDER + SECOND_ORDER + THIRD_ORDER


def _check_lg(lg: object) -> LayeredGraph:
    if not isinstance(lg, LayeredGraph):
        raise InputError(
            f"expected a LayeredGraph (got {type(lg).__name__}); build one with "
            "LayeredGraph.from_matrices([W0, W1, ...])"
        )
    return lg


def live_neurons(lg: LayeredGraph) -> list[np.ndarray]:
    """Boolean live masks per layer after iteratively removing ghost neurons (hidden or output
    units without input) and dead neurons (input or hidden units without output), as in Zahn,
    Daniel, Kutz 2024. Input units need no input, output units need no output."""
    lg = _check_lg(lg)
    mats = [abs(m) for m in lg.layers]
    sizes = lg.sizes
    live = [np.ones(n, dtype=bool) for n in sizes]
    changed = True
    while changed:
        changed = False
        for i, m in enumerate(mats):
            src_ok = live[i].astype(np.float64)
            dst_ok = live[i + 1].astype(np.float64)
            # edges between live neurons only
            indeg = np.asarray(m.T @ src_ok).ravel() * dst_ok
            outdeg = np.asarray(m @ dst_ok).ravel() * src_ok
            # target i+1 is a ghost if it is not the input layer and has no live input
            ghost = live[i + 1] & (indeg == 0)
            dead = live[i] & (outdeg == 0)
            if ghost.any():
                live[i + 1] = live[i + 1] & ~ghost
                changed = True
            if dead.any():
                live[i] = live[i] & ~dead
                changed = True
    return live


def prune_ghost_dead(lg: LayeredGraph) -> LayeredGraph:
    """The same network with every edge touching a ghost or dead neuron removed (shapes kept)."""
    live = live_neurons(lg)
    mats = []
    for i, m in enumerate(lg.layers):
        keep = sp.diags(live[i].astype(np.float64)) @ m @ sp.diags(live[i + 1].astype(np.float64))
        k = sp.csr_matrix(keep)
        k.eliminate_zeros()
        k.sort_indices()
        mats.append(k)
    return LayeredGraph(tuple(mats), lg.biases)


def _with_bias(lg: LayeredGraph, live: list[np.ndarray]) -> LayeredGraph:
    """Append one bias source node to every layer's sources; it feeds the live targets with a
    nonzero bias (every live target if the graph carries no biases), with the bias's sign."""
    mats: list[sp.csr_matrix] = []
    for i, m in enumerate(lg.layers):
        n_out = m.shape[1]
        live_t = live[i + 1].astype(np.float64)
        b = lg.biases[i] * live_t if lg.biases is not None else live_t
        row = sp.csr_matrix(np.sign(b).reshape(1, n_out))
        mm = sp.vstack([m, row]).tocsr()
        if i > 0:  # previous matrix gets a zero column for this layer's bias node
            prev = mats[-1]
            mats[-1] = sp.hstack([prev, sp.csr_matrix((prev.shape[0], 1))]).tocsr()
        mats.append(mm)
    out = []
    for m in mats:
        m.eliminate_zeros()
        m.sort_indices()
        out.append(m)
    return LayeredGraph(tuple(out))


def _c2(x: np.ndarray) -> int:
    x = x.astype(np.int64)
    return int(np.sum(x * (x - 1) // 2))


def _c3(x: np.ndarray) -> int:
    x = x.astype(np.int64)
    return int(np.sum(x * (x - 1) * (x - 2) // 6))


def _binary(m: sp.csr_matrix) -> sp.csr_matrix:
    b = m.copy()
    b.data = np.ones_like(b.data)
    return b


def _prod(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    out = (a @ b).tocsr()
    out.eliminate_zeros()
    return out


@dataclass(frozen=True)
class LayeredMotifs:
    """Result of :func:`layered_motifs`.

    counts:    {motif: total count} for edge, diverging2, converging2, chain2, diverging3,
               converging3, chain3, bifan, biparallel.
    per_layer: {motif: [count per starting layer l]} (motifs spanning two or three layers start
               at l and have one entry fewer per extra layer spanned).
    signed:    {motif: {pattern: count}}; see :func:`layered_motifs` for the patterns.
    sizes:     layer sizes of the graph analysed (after adding bias nodes, if any).
    """

    counts: dict[str, int]
    per_layer: dict[str, list[int]]
    signed: dict[str, dict[str, int]]
    sizes: tuple[int, ...]


def layered_motifs(
    lg: LayeredGraph, bias: bool = False, remove_ghost_dead: bool = True, signed: bool = True
) -> LayeredMotifs:
    """First-, second- and third-order feed-forward motifs (Zahn, Daniel, Kutz 2024).

    Definitions (module docstring): first order = edges; second order diverging C(out, 2),
    converging C(in, 2), chain = connected endpoint pairs nnz(M_l M_{l+1}); third order diverging
    C(out, 3), converging C(in, 3), chain nnz(M_l M_{l+1} M_{l+2}), bi-fan (two sources sharing
    two targets), bi-parallel (two 2-paths with the same endpoints).
    remove_ghost_dead=True first removes neurons without input (ghost) or output (dead),
    iteratively. bias=True adds per layer one bias source feeding every live neuron with a nonzero
    bias (every live neuron if the graph has no biases), as in the paper's "with bias" variant.

    Signed variants (by edge sign): edge {+, -}; diverging2 / converging2 {++, +-, --};
    diverging3 / converging3 {+++, ++-, +--, ---} (unordered); chain2 {++, +-, -+, --} counts
    2-*paths* i->j->k by the ordered signs (the unsigned chain counts endpoint pairs);
    bifan by number of negative edges {0..4}; biparallel {balanced, unbalanced} as in
    :func:`cycle4_balance`. signed=False skips them (``.signed`` is then empty), about 3x faster.

    >>> import numpy as np
    >>> r = layered_motifs(LayeredGraph.from_matrices([np.ones((2, 3)), np.ones((3, 2))]))
    >>> r.counts["diverging2"], r.counts["bifan"], r.counts["biparallel"]
    (9, 6, 12)
    """
    lg = _check_lg(lg)
    if remove_ghost_dead:
        live = live_neurons(lg)
        lg = prune_ghost_dead(lg)
    else:
        live = [np.ones(n, dtype=bool) for n in lg.sizes]
    if bias:
        lg = _with_bias(lg, live)
    mats = list(lg.layers)
    bins = [_binary(m) for m in mats]
    L = len(mats)
    per: dict[str, list[int]] = {k: [] for k in LAYERED_MOTIFS}
    want_signed = signed
    sg: dict[str, dict[str, int]] = {
        "edge": {"+": 0, "-": 0},
        "diverging2": {"++": 0, "+-": 0, "--": 0},
        "converging2": {"++": 0, "+-": 0, "--": 0},
        "chain2": {"++": 0, "+-": 0, "-+": 0, "--": 0},
        "diverging3": {"+++": 0, "++-": 0, "+--": 0, "---": 0},
        "converging3": {"+++": 0, "++-": 0, "+--": 0, "---": 0},
        "bifan": {str(k): 0 for k in range(5)},
        "biparallel": {"balanced": 0, "unbalanced": 0},
    }
    pn = [sign_split(m) for m in mats] if want_signed else []
    for i, b in enumerate(bins):
        out = np.diff(b.indptr)
        indeg = np.bincount(b.indices, minlength=b.shape[1])
        per["edge"].append(int(b.nnz))
        per["diverging2"].append(_c2(out))
        per["converging2"].append(_c2(indeg))
        per["diverging3"].append(_c3(out))
        per["converging3"].append(_c3(indeg))
        if not want_signed:
            g = _prod(b, b.T) if b.shape[0] <= b.shape[1] else _prod(b.T.tocsr(), b)
            side = out if b.shape[0] <= b.shape[1] else indeg
            per["bifan"].append((_sum_c2(g) - _c2(side)) // 2)
            continue
        p, q = pn[i]
        po, qo = np.diff(p.indptr).astype(np.int64), np.diff(q.indptr).astype(np.int64)
        pi = np.bincount(p.indices, minlength=b.shape[1]).astype(np.int64)
        qi = np.bincount(q.indices, minlength=b.shape[1]).astype(np.int64)
        sg["edge"]["+"] += int(p.nnz)
        sg["edge"]["-"] += int(q.nnz)
        for key, (x, y) in (("diverging", (po, qo)), ("converging", (pi, qi))):
            s2 = sg[key + "2"]
            s2["++"] += _c2(x)
            s2["+-"] += int(np.dot(x, y))
            s2["--"] += _c2(y)
            s3 = sg[key + "3"]
            s3["+++"] += _c3(x)
            s3["++-"] += int(np.sum(x * (x - 1) // 2 * y))
            s3["+--"] += int(np.sum(y * (y - 1) // 2 * x))
            s3["---"] += _c3(y)
        by_neg = _bifan_signed(p, q)
        for k, v in by_neg.items():
            sg["bifan"][k] += v
        per["bifan"].append(sum(by_neg.values()))
    for i in range(L - 1):
        if not want_signed:
            all_paths = _prod(bins[i], bins[i + 1])
            per["chain2"].append(int(all_paths.nnz))
            per["biparallel"].append(_sum_c2(all_paths))
            if i + 2 < L:
                per["chain3"].append(_nnz_product(all_paths, bins[i + 2]))
            continue
        (p1, q1), (p2, q2) = pn[i], pn[i + 1]
        in_p = np.bincount(p1.indices, minlength=p1.shape[1]).astype(np.int64)
        in_q = np.bincount(q1.indices, minlength=q1.shape[1]).astype(np.int64)
        out_p, out_q = np.diff(p2.indptr).astype(np.int64), np.diff(q2.indptr).astype(np.int64)
        s = sg["chain2"]
        s["++"] += int(np.dot(in_p, out_p))
        s["+-"] += int(np.dot(in_p, out_q))
        s["-+"] += int(np.dot(in_q, out_p))
        s["--"] += int(np.dot(in_q, out_q))
        pos_paths, neg_paths = _signed_paths(mats[i], mats[i + 1])
        all_paths = (pos_paths + neg_paths).tocsr()
        per["chain2"].append(int(all_paths.nnz))
        per["biparallel"].append(_sum_c2(all_paths))
        bal = _sum_c2(pos_paths) + _sum_c2(neg_paths)
        sg["biparallel"]["balanced"] += bal
        sg["biparallel"]["unbalanced"] += per["biparallel"][-1] - bal
        if i + 2 < L:
            per["chain3"].append(_nnz_product(all_paths, bins[i + 2]))
    counts = {k: int(sum(v)) for k, v in per.items()}
    return LayeredMotifs(counts, per, sg if want_signed else {}, lg.sizes)


def _sum_c2(x: sp.csr_matrix) -> int:
    d = x.data.astype(np.int64)
    return int(np.sum(d * (d - 1) // 2))


def _sum_prod(x: sp.csr_matrix, y: sp.csr_matrix) -> int:
    return round(float(x.multiply(y).sum()))


def _nnz_product(x: sp.csr_matrix, y: sp.csr_matrix) -> int:
    """nnz(x @ y) for nonnegative x, y; dense BLAS (exact in float32 below 2**24) when small."""
    if max(x.shape[0], x.shape[1], y.shape[1]) <= 4096:
        xd = x.toarray().astype(np.float32)
        yd = y.toarray().astype(np.float32)
        return int(np.count_nonzero(xd @ yd))
    return int(_prod(x, y).nnz)


def _bifan_signed(p: sp.csr_matrix, q: sp.csr_matrix) -> dict[str, int]:
    """Bi-fans (sources i < i', targets k < k', all four edges present) by number of negative
    edges. For a source pair, a shared target carries 0, 1 or 2 negative edges; with a0, a1, a2
    shared targets of each kind the pairs of targets split as C(a0,2) | a0 a1 | C(a1,2) + a0 a2 |
    a1 a2 | C(a2,2). The Gram matrices are symmetric with known diagonals (a0_ii = positive
    out-degree, a1_ii = 0, a2_ii = negative out-degree), so sums over i < i' are (all - diag) / 2."""
    if p.shape[0] > p.shape[1]:
        p, q = p.T.tocsr(), q.T.tocsr()
    a0 = _prod(p, p.T)
    a2 = _prod(q, q.T)
    pq = _prod(p, q.T)
    a1 = (pq + pq.T).tocsr()
    po = np.diff(p.indptr).astype(np.int64)
    qo = np.diff(q.indptr).astype(np.int64)
    c2 = lambda x: int(np.sum(x * (x - 1) // 2))
    return {
        "0": (_sum_c2(a0) - c2(po)) // 2,
        "1": _sum_prod(a0, a1) // 2,
        "2": (_sum_c2(a1) + _sum_prod(a0, a2) - int(np.dot(po, qo))) // 2,
        "3": _sum_prod(a1, a2) // 2,
        "4": (_sum_c2(a2) - c2(qo)) // 2,
    }


def _signed_paths(w1: sp.csr_matrix, w2: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Counts of 2-paths i->j->k with positive and with negative sign product, per (i, k)."""
    p1, q1 = sign_split(w1)
    p2, q2 = sign_split(w2)
    pos = (_prod(p1, p2) + _prod(q1, q2)).tocsr()
    neg = (_prod(p1, q2) + _prod(q1, p2)).tocsr()
    return pos, neg


def _cycle4_pair(w1: sp.csr_matrix, w2: sp.csr_matrix) -> tuple[int, int]:
    """(balanced, total) bi-parallels through the layer pair (w1, w2)."""
    pos, neg = _signed_paths(w1, w2)
    return _sum_c2(pos) + _sum_c2(neg), _sum_c2((pos + neg).tocsr())


@dataclass(frozen=True)
class Cycle4Balance:
    """Result of :func:`cycle4_balance`: balanced / unbalanced / total bi-parallels, ratio =
    balanced / total (NaN if none), per_layer [(balanced, total)] per layer pair (l, l+1)."""

    balanced: int
    unbalanced: int
    total: int
    ratio: float
    per_layer: list[tuple[int, int]]


def cycle4_balance(lg: LayeredGraph, remove_ghost_dead: bool = True) -> Cycle4Balance:
    """Balance of bi-parallels, the triangle-free counterpart of FFL balance for MLPs.

    A bi-parallel is two 2-paths i->j1->k and i->j2->k (j1 != j2); it is balanced iff the product
    of its four edge signs is positive, i.e. iff both paths carry the same sign. Per (i, k) with
    a positive and b negative paths: C(a, 2) + C(b, 2) balanced, a * b unbalanced, from the
    products |S_l| |S_{l+1}| and S_l S_{l+1} (DESIGN.md; balance in the sense of Zhang et al. 2023
    transposed to layered graphs).

    >>> import numpy as np
    >>> w0 = np.array([[1.0, 1.0]]); w1 = np.array([[1.0], [-1.0]])
    >>> cycle4_balance(LayeredGraph.from_matrices([w0, w1])).unbalanced
    1
    """
    lg = _check_lg(lg)
    if remove_ghost_dead:
        lg = prune_ghost_dead(lg)
    per = [_cycle4_pair(lg.layers[i], lg.layers[i + 1]) for i in range(len(lg.layers) - 1)]
    bal = sum(b for b, _ in per)
    tot = sum(t for _, t in per)
    return Cycle4Balance(bal, tot - bal, tot, bal / tot if tot else float("nan"), per)
