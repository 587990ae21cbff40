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

The definitions are those of Zahn, Daniel and Kutz [1]_; the balance of bi-parallels
(:func:`cycle4_balance`) carries the FFL balance of Zhang et al. [2]_ over to layered graphs,
which have no triangles.

References
----------
.. [1] O. T. Zahn, T. L. Daniel and J. N. Kutz, "Motif distribution and function of sparse deep
   neural networks", arXiv:2403.00974 (2024). doi:10.48550/arXiv.2403.00974
.. [2] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
   recurrent neural networks", Communications Physics 6, 243 (2023).
   doi:10.1038/s42005-023-01364-0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sparsetopo.analysis._validation import layered_graph
from sparsetopo.analysis.graphs import LayeredGraph, sign_split

__all__ = [
    "FIRST_ORDER",
    "LAYERED_MOTIFS",
    "SECOND_ORDER",
    "THIRD_ORDER",
    "Cycle4Balance",
    "LayeredMotifs",
    "cycle4_balance",
    "layered_motifs",
    "live_neurons",
    "prune_ghost_dead",
]

#: First-order motifs (one edge).
FIRST_ORDER = ("edge",)
#: Second-order motifs (two edges).
SECOND_ORDER = ("diverging2", "converging2", "chain2")
#: Third-order motifs (three or four edges).
THIRD_ORDER = ("diverging3", "converging3", "chain3", "bifan", "biparallel")
#: Every layered motif, in the order of :attr:`LayeredMotifs.counts`.
LAYERED_MOTIFS: tuple[str, ...] = (*FIRST_ORDER, *SECOND_ORDER, *THIRD_ORDER)


def live_neurons(lg: LayeredGraph) -> list[np.ndarray]:
    """Find the neurons that survive the removal of ghost and dead neurons.

    Parameters
    ----------
    lg : LayeredGraph
        The network.

    Returns
    -------
    list of numpy.ndarray of bool
        One mask per layer (``len(lg.sizes)`` of them); True marks a live neuron.

    Raises
    ------
    InputError
        If ``lg`` is not a LayeredGraph.

    Notes
    -----
    A ghost is a hidden or output neuron without input from a live neuron; a dead neuron is an
    input or hidden neuron without output to a live neuron. Removing one can create another, so
    the removal repeats until nothing changes (Zahn et al. [1]_). Input neurons need no input
    and output neurons need no output.

    References
    ----------
    .. [1] O. T. Zahn, T. L. Daniel and J. N. Kutz, "Motif distribution and function of sparse
       deep neural networks", arXiv:2403.00974 (2024). doi:10.48550/arXiv.2403.00974

    Examples
    --------
    Input 1 feeds nothing (dead), hidden 1 gets nothing (ghost) and hidden 2 feeds nothing
    (dead):

    >>> import numpy as np
    >>> w0 = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    >>> w1 = np.array([[1.0], [1.0], [0.0]])
    >>> [m.tolist() for m in live_neurons(LayeredGraph.from_matrices([w0, w1]))]
    [[True, False], [True, False, False], [True]]
    """
    lg = layered_graph(lg, "live_neurons")
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
    """Remove every edge that touches a ghost or dead neuron.

    Parameters
    ----------
    lg : LayeredGraph
        The network.

    Returns
    -------
    LayeredGraph
        Same sizes and biases; only edges between neurons of :func:`live_neurons` remain.

    Raises
    ------
    InputError
        If ``lg`` is not a LayeredGraph.

    Examples
    --------
    >>> import numpy as np
    >>> w0 = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    >>> w1 = np.array([[1.0], [1.0], [0.0]])
    >>> prune_ghost_dead(LayeredGraph.from_matrices([w0, w1]))
    LayeredGraph(sizes=(2, 3, 1), n_edges=2)
    """
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
    """Append one bias source node to every layer's sources.

    It feeds the live targets with a nonzero bias (every live target if the graph carries no
    biases), with the bias's sign.
    """
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
    """Feed-forward motif counts; the result of :func:`layered_motifs`.

    Attributes
    ----------
    counts : dict of str to int
        Total count per motif of :data:`LAYERED_MOTIFS` (edge, diverging2, converging2, chain2,
        diverging3, converging3, chain3, bifan, biparallel).
    per_layer : dict of str to list of int
        Count per starting layer ``l``; a motif spanning two or three layers has one or two
        entries fewer than there are weight matrices.
    signed : dict of str to dict of str to int
        Count per sign pattern (see :func:`layered_motifs`); empty when ``signed=False``.
    sizes : tuple of int
        Layer sizes of the graph analysed (after adding bias nodes, if any).
    """

    counts: dict[str, int]
    per_layer: dict[str, list[int]]
    signed: dict[str, dict[str, int]]
    sizes: tuple[int, ...]


def layered_motifs(
    lg: LayeredGraph, bias: bool = False, remove_ghost_dead: bool = True, signed: bool = True
) -> LayeredMotifs:
    """Count first-, second- and third-order feed-forward motifs.

    Parameters
    ----------
    lg : LayeredGraph
        The network.
    bias : bool, default False
        Add to every layer one bias source that feeds each live neuron with a nonzero bias, with
        the bias's sign (each live neuron if the graph has no biases): the paper's "with bias"
        variant.
    remove_ghost_dead : bool, default True
        Count on :func:`prune_ghost_dead` of the network.
    signed : bool, default True
        Also count the signed variants (about 3 times slower); False leaves ``.signed`` empty.

    Returns
    -------
    LayeredMotifs
        Total, per-layer and signed counts.

    Raises
    ------
    InputError
        If ``lg`` is not a LayeredGraph.

    See Also
    --------
    cycle4_balance : balance of the bi-parallels.

    Notes
    -----
    On the binary masks ``M_l`` (Zahn et al. [1]_): edges ``nnz(M_l)``; diverging
    ``sum_i C(out_i, k)`` and converging ``sum_j C(in_j, k)`` for ``k = 2, 3``; chain2
    ``nnz(M_l M_{l+1})`` (connected endpoint pairs); chain3 ``nnz(M_l M_{l+1} M_{l+2})``;
    bi-fan ``sum_{i < i'} C((M_l M_l^T)_{ii'}, 2)`` (two sources sharing two targets);
    bi-parallel ``sum_{i,k} C((M_l M_{l+1})_{ik}, 2)`` (two 2-paths with the same ends).

    Signed patterns: edge {+, -}; diverging2 / converging2 {++, +-, --}; diverging3 /
    converging3 {+++, ++-, +--, ---} (unordered); chain2 {++, +-, -+, --} counts 2-*paths*
    ``i -> j -> k`` by their ordered signs (the unsigned chain2 counts endpoint pairs); bifan
    by its number of negative edges, "0" to "4"; biparallel {balanced, unbalanced} as in
    :func:`cycle4_balance`.

    References
    ----------
    .. [1] O. T. Zahn, T. L. Daniel and J. N. Kutz, "Motif distribution and function of sparse
       deep neural networks", arXiv:2403.00974 (2024). doi:10.48550/arXiv.2403.00974

    Examples
    --------
    A dense 2-3-2 network: each input fans out to 3 hidden units (``2 * C(3, 2)`` diverging
    pairs) and each hidden unit to 2 outputs (``3 * C(2, 2)``); each of the 4 input-output pairs
    is joined by 3 paths, ``C(3, 2) = 3`` bi-parallels each:

    >>> import numpy as np
    >>> r = layered_motifs(LayeredGraph.from_matrices([np.ones((2, 3)), np.ones((3, 2))]))
    >>> r.counts["diverging2"], r.counts["chain2"], r.counts["bifan"], r.counts["biparallel"]
    (9, 4, 6, 12)
    >>> r.per_layer["diverging2"]
    [6, 3]

    Signs: one input feeds two hidden units with ``+`` and ``-``, both feed the output with
    ``+``:

    >>> r = layered_motifs(LayeredGraph.from_matrices([[[1.0, -1.0]], [[1.0], [1.0]]]))
    >>> r.signed["diverging2"], r.signed["chain2"], r.signed["biparallel"]
    ({'++': 0, '+-': 1, '--': 0}, {'++': 1, '+-': 0, '-+': 1, '--': 0}, {'balanced': 0, 'unbalanced': 1})
    >>> layered_motifs(LayeredGraph.from_matrices([[[1.0, -1.0]], [[1.0], [1.0]]]), bias=True).sizes
    (2, 3, 1)
    """
    lg = layered_graph(lg, "layered_motifs")
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
    """Count bi-fans (sources i < i', targets k < k', all four edges) by negative edges.

    For a source pair, a shared target carries 0, 1 or 2 negative edges; with a0, a1, a2
    shared targets of each kind the pairs of targets split as C(a0,2) | a0 a1 | C(a1,2) + a0 a2 |
    a1 a2 | C(a2,2). The Gram matrices are symmetric with known diagonals (a0_ii = positive
    out-degree, a1_ii = 0, a2_ii = negative out-degree), so sums over i < i' are (all - diag) / 2.
    """
    if p.shape[0] > p.shape[1]:
        p, q = p.T.tocsr(), q.T.tocsr()
    a0 = _prod(p, p.T)
    a2 = _prod(q, q.T)
    pq = _prod(p, q.T)
    a1 = (pq + pq.T).tocsr()
    po = np.diff(p.indptr).astype(np.int64)
    qo = np.diff(q.indptr).astype(np.int64)
    return {
        "0": (_sum_c2(a0) - _c2(po)) // 2,
        "1": _sum_prod(a0, a1) // 2,
        "2": (_sum_c2(a1) + _sum_prod(a0, a2) - int(np.dot(po, qo))) // 2,
        "3": _sum_prod(a1, a2) // 2,
        "4": (_sum_c2(a2) - _c2(qo)) // 2,
    }


def _signed_paths(w1: sp.csr_matrix, w2: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Count the 2-paths i->j->k with positive and with negative sign product, per (i, k)."""
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
    """Balance of bi-parallels (4-cycles); the result of :func:`cycle4_balance`.

    Attributes
    ----------
    balanced, unbalanced, total : int
        Bi-parallels whose four edge signs multiply to a positive / negative number, and all.
    ratio : float
        ``balanced / total`` (NaN without bi-parallels).
    per_layer : list of (int, int)
        ``(balanced, total)`` per layer pair ``(l, l + 1)``.
    """

    balanced: int
    unbalanced: int
    total: int
    ratio: float
    per_layer: list[tuple[int, int]]


def cycle4_balance(lg: LayeredGraph, remove_ghost_dead: bool = True) -> Cycle4Balance:
    """Measure the balance of bi-parallels, the triangle-free counterpart of FFL balance.

    Parameters
    ----------
    lg : LayeredGraph
        The network.
    remove_ghost_dead : bool, default True
        Count on :func:`prune_ghost_dead` of the network.

    Returns
    -------
    Cycle4Balance
        Balanced, unbalanced and total bi-parallels, overall and per layer pair.

    Raises
    ------
    InputError
        If ``lg`` is not a LayeredGraph.

    See Also
    --------
    ffl_balance : the recurrent counterpart.

    Notes
    -----
    A strictly layered network has no triangles, hence no FFLs. A bi-parallel is two 2-paths
    ``i -> j1 -> k`` and ``i -> j2 -> k`` (``j1 != j2``); it is balanced iff the product of its
    four edge signs is positive, i.e. iff both paths carry the same sign: the FFL balance of
    Zhang et al. [1]_ carried over to 4-cycles (see ``docs/design.md``). With ``a_ik`` positive
    and ``b_ik`` negative 2-paths from ``i`` to ``k`` (from the products ``P_l P_{l+1} +
    N_l N_{l+1}`` and ``P_l N_{l+1} + N_l P_{l+1}`` of the sign parts),
    ``balanced = sum_ik C(a_ik, 2) + C(b_ik, 2)`` and ``unbalanced = sum_ik a_ik b_ik``.

    References
    ----------
    .. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
    >>> import numpy as np
    >>> w0 = np.array([[1.0, 1.0]]); w1 = np.array([[1.0], [-1.0]])
    >>> c = cycle4_balance(LayeredGraph.from_matrices([w0, w1]))
    >>> c.balanced, c.unbalanced, c.ratio
    (0, 1, 0.0)

    Two inputs, each with one positive and one negative path to the output:

    >>> c = cycle4_balance(LayeredGraph.from_matrices([np.ones((2, 2)), w1]))
    >>> c.unbalanced, c.per_layer
    (2, [(0, 2)])
    """
    lg = layered_graph(lg, "cycle4_balance")
    if remove_ghost_dead:
        lg = prune_ghost_dead(lg)
    per = [_cycle4_pair(lg.layers[i], lg.layers[i + 1]) for i in range(len(lg.layers) - 1)]
    bal = sum(b for b, _ in per)
    tot = sum(t for _, t in per)
    return Cycle4Balance(bal, tot - bal, tot, bal / tot if tot else float("nan"), per)
