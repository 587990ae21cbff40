"""Structural balance of signed directed graphs.

Two views: the balance of feed-forward loops (Zhang et al. [1]_), in the authors' per-class
aggregation or pooled over all loops, and the balance of undirected signed triangles in the sense
of Cartwright and Harary [2]_.

References
----------
.. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
   recurrent neural networks", Communications Physics 6, 243 (2023).
   doi:10.1038/s42005-023-01364-0
.. [2] D. Cartwright and F. Harary, "Structural balance: a generalization of Heider's theory",
   Psychological Review 63(5), 277-293 (1956). doi:10.1037/h0046049
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsetopo.analysis._validation import choice, signed_graph
from sparsetopo.analysis.graphs import SignedGraph
from sparsetopo.analysis.triads import FFL_PER_CLASS, FFLCounts, ffl_counts

__all__ = [
    "ALL_FFL_CLASSES",
    "MODES",
    "PAPER_FFL_CLASSES",
    "PREPROCESS",
    "RECIPROCAL",
    "FFLBalance",
    "TriangleBalance",
    "balance_from_counts",
    "ffl_balance",
    "paper_preprocess",
    "triangle_balance",
]

#: The FFL-holding triad classes Zhang et al. 2023 use (030C is a pure cycle and holds none).
PAPER_FFL_CLASSES: tuple[str, ...] = ("030T", "120U", "120D", "300")
#: Every triad class that holds at least one FFL (i->j, j->k, i->k): the pooled mode counts these.
ALL_FFL_CLASSES: tuple[str, ...] = tuple(FFL_PER_CLASS)
#: Aggregations of :func:`ffl_balance`.
MODES: tuple[str, ...] = ("pooled", "paper")
#: Preprocessing options of :func:`ffl_balance`.
PREPROCESS: tuple[str | None, ...] = (None, "paper")
#: How :func:`triangle_balance` turns a reciprocal pair into undirected edges.
RECIPROCAL: tuple[str, ...] = ("sum", "multi")


def paper_preprocess(g: SignedGraph) -> tuple[SignedGraph, np.ndarray]:
    """Apply the preprocessing of Zhang et al. (2023) to a graph.

    One pass of each step, in this order: drop isolated nodes, then drop nodes of total degree 1,
    then drop self-loops.

    Parameters
    ----------
    g : SignedGraph
        The graph.

    Returns
    -------
    graph : SignedGraph
        The graph on the kept nodes, relabelled ``0 .. k - 1`` in increasing original id.
    kept : numpy.ndarray of int64
        The original ids of the kept nodes.

    Raises
    ------
    InputError
        If ``g`` is not a SignedGraph.

    Notes
    -----
    The total degree is ``in + out`` with a self-loop counting 2, as in networkx. No step is
    repeated: a node left with degree 1 by the second step stays. FFL counts do not change,
    since degree-1 nodes and self-loops lie on no FFL [1]_.

    References
    ----------
    .. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
    Node 4 is isolated, node 3 has degree 1 and node 1 has a self-loop:

    >>> g = SignedGraph.from_edges([0, 1, 0, 1, 2], [1, 2, 2, 1, 3], [1.0] * 5, n_nodes=5)
    >>> h, kept = paper_preprocess(g)
    >>> kept.tolist(), h.n_edges
    ([0, 1, 2], 3)
    """
    g = signed_graph(g, "paper_preprocess")
    a = g.adj
    deg = np.diff(a.indptr) + np.bincount(a.indices, minlength=g.n_nodes)
    kept = np.flatnonzero(deg > 0)
    h = g.subgraph(kept)
    a = h.adj
    deg = np.diff(a.indptr) + np.bincount(a.indices, minlength=h.n_nodes)
    keep2 = np.flatnonzero(deg != 1)
    kept = kept[keep2]
    h = h.subgraph(keep2).without_self_loops()
    return h, kept


@dataclass(frozen=True)
class FFLBalance:
    """Balance of feed-forward loops; the result of :func:`ffl_balance`.

    Attributes
    ----------
    ratio : float
        The headline balance ratio of ``mode`` (NaN when there is nothing to average).
    per_class : dict of str to (int, int)
        ``(balanced, total)`` FFLs for every FFL-holding class (030T, 120U, 120D, 120C, 210,
        300).
    balanced, total, unbalanced : int
        FFLs summed over the classes the mode uses (pooled: all six; paper: 030T, 120U, 120D,
        300).
    mode : str
        "pooled" or "paper".
    preprocess : str or None
        As passed to :func:`ffl_balance`.
    """

    ratio: float
    per_class: dict[str, tuple[int, int]]
    balanced: int
    total: int
    unbalanced: int
    mode: str
    preprocess: str | None


def ffl_balance(
    g: SignedGraph, mode: str = "pooled", preprocess: str | None = None
) -> FFLBalance:
    """Measure the structural balance of the feed-forward loops of a signed graph.

    Parameters
    ----------
    g : SignedGraph
        The graph (self-loops are ignored).
    mode : {"pooled", "paper"}, default "pooled"
        "pooled": balanced FFLs over all FFLs of the graph (all six FFL-holding classes).
        "paper": the aggregation of Zhang et al. (2023), the unweighted mean of the per-class
        ratios of 030T, 120U, 120D and 300 (see Notes).
    preprocess : {None, "paper"}, default None
        "paper" applies :func:`paper_preprocess` first, for parity with the authors' pipeline
        (the counts cannot change under it); None uses the graph as is.

    Returns
    -------
    FFLBalance
        The ratio, the per-class counts and the totals.

    Raises
    ------
    InputError
        If ``g`` is not a SignedGraph, or ``mode`` or ``preprocess`` is unknown.

    See Also
    --------
    ffl_counts : the per-class counts.
    triangle_balance : balance of undirected triangles.

    Notes
    -----
    An FFL is ``i -> j``, ``j -> k``, ``i -> k`` on distinct nodes; it is balanced iff
    ``sign(w_ij) sign(w_jk) sign(w_ik) > 0``. A 030T triad holds 1 FFL, 120U and 120D hold 2,
    120C 1, 210 3 and 300 6; 030C (a pure 3-cycle) holds none.

    Pooled: ``BR = sum_c B_c / sum_c T_c`` over all six classes (NaN without FFLs).

    Paper [1]_: ``BR_c = B_c / T_c`` for ``c`` in 030T, 120U, 120D, 300, and
    ``BR = mean(BR_c for c with T_c > 0 and BR_c != 0)``; a class with no FFL, or only
    unbalanced ones, is left out, and the ratio is NaN if none remains.

    References
    ----------
    .. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
    One FFL with a negative sign product:

    >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
    >>> ffl_balance(g).ratio, ffl_balance(g).unbalanced
    (0.0, 1)

    A balanced 030T next to a 120D triad (``4 <-> 5``) with one balanced FFL of two: pooled
    ``2 / 3``, paper ``(1 + 1/2) / 2``:

    >>> g = SignedGraph.from_edges([0, 1, 0, 3, 3, 4, 5], [1, 2, 2, 4, 5, 5, 4],
    ...                            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -1.0])
    >>> round(ffl_balance(g).ratio, 4), ffl_balance(g, mode="paper").ratio
    (0.6667, 0.75)
    >>> ffl_balance(g).per_class["120D"]
    (1, 2)
    """
    g = signed_graph(g, "ffl_balance")
    choice("mode", mode, MODES)
    choice("preprocess", preprocess, PREPROCESS)
    if preprocess == "paper":
        g, _ = paper_preprocess(g)
    return balance_from_counts(ffl_counts(g), mode, preprocess)


def balance_from_counts(f: FFLCounts, mode: str = "pooled", preprocess: str | None = None) -> FFLBalance:
    """Compute :class:`FFLBalance` from precomputed :func:`ffl_counts`.

    Parameters
    ----------
    f : FFLCounts
        Counts from :func:`ffl_counts` (e.g. of a null-model sample).
    mode : {"pooled", "paper"}, default "pooled"
        As in :func:`ffl_balance`.
    preprocess : {None, "paper"}, default None
        Recorded in the result only (the counts are already computed).

    Returns
    -------
    FFLBalance
        Same as ``ffl_balance(g, mode)`` for the graph the counts came from.

    Raises
    ------
    InputError
        If ``mode`` is unknown.

    Examples
    --------
    >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, 1.0])
    >>> balance_from_counts(ffl_counts(g), "paper").ratio
    1.0
    """
    choice("mode", mode, MODES)
    per_class = {c: (f.balanced[c], f.total[c]) for c in ALL_FFL_CLASSES}
    classes = ALL_FFL_CLASSES if mode == "pooled" else PAPER_FFL_CLASSES
    bal = sum(per_class[c][0] for c in classes)
    tot = sum(per_class[c][1] for c in classes)
    if mode == "pooled":
        ratio = bal / tot if tot else float("nan")
    else:
        brs = [per_class[c][0] / per_class[c][1] for c in classes if per_class[c][1]]
        brs = [b for b in brs if b != 0]
        ratio = float(np.mean(brs)) if brs else float("nan")
    return FFLBalance(float(ratio), per_class, bal, tot, tot - bal, mode, preprocess)


@dataclass(frozen=True)
class TriangleBalance:
    """Balance of undirected signed triangles; the result of :func:`triangle_balance`.

    Attributes
    ----------
    n_triangles, n_unbalanced : int
        Signed undirected triangles, and those whose three edge signs multiply to a negative
        number.
    fraction_unbalanced : float
        ``n_unbalanced / n_triangles`` (NaN without triangles).
    node_triangles, node_unbalanced : numpy.ndarray of int64
        Per node, the triangles and the unbalanced triangles that contain it.
    node_share : numpy.ndarray of float64
        ``node_unbalanced / n_unbalanced`` (sums to 3 over the nodes; zeros if none).
    reciprocal : str
        As passed to :func:`triangle_balance`.
    """

    n_triangles: int
    n_unbalanced: int
    fraction_unbalanced: float
    node_triangles: np.ndarray
    node_unbalanced: np.ndarray
    node_share: np.ndarray
    reciprocal: str


def triangle_balance(g: SignedGraph, reciprocal: str = "sum") -> TriangleBalance:
    """Measure the balance of the undirected signed triangles of a directed signed graph.

    Parameters
    ----------
    g : SignedGraph
        The graph; edge directions are dropped and self-loops ignored.
    reciprocal : {"sum", "multi"}, default "sum"
        How a reciprocal pair (``i -> j`` and ``j -> i``) becomes undirected. "sum": one edge
        with the sign of ``w_ij + w_ji`` (the symmetric part of ``W``); a pair whose weights
        cancel exactly is dropped. "multi": each directed edge is its own undirected edge, and a
        node triple counts once per choice of one edge per pair (a triangle with ``k`` mutual
        pairs counts ``2**k`` times). A pair joined one way only takes that edge's sign.

    Returns
    -------
    TriangleBalance
        Triangle counts, the unbalanced fraction and per-node counts.

    Raises
    ------
    InputError
        If ``g`` is not a SignedGraph or ``reciprocal`` is unknown.

    See Also
    --------
    ffl_balance : balance of directed feed-forward loops.

    Notes
    -----
    A triangle is balanced iff the product of its three edge signs is positive (Cartwright and
    Harary [1]_). With ``S`` the symmetric signed adjacency matrix and ``|S|`` its absolute
    value, node ``i`` lies on ``t_i = (|S|^3)_ii / 2`` triangles, of which
    ``u_i = ((|S|^3)_ii - (S^3)_ii) / 4`` are unbalanced; the totals are ``sum_i t_i / 3`` and
    ``sum_i u_i / 3``. Dense products are used while ``n <= 6000``.

    References
    ----------
    .. [1] D. Cartwright and F. Harary, "Structural balance: a generalization of Heider's
       theory", Psychological Review 63(5), 277-293 (1956). doi:10.1037/h0046049

    Examples
    --------
    Triangle ``{0, 1, 2}`` has signs ``+ + -`` (unbalanced), triangle ``{0, 2, 3}`` has
    ``- + -`` (balanced):

    >>> g = SignedGraph.from_edges([0, 1, 2, 2, 3], [1, 2, 0, 3, 0], [1.0, 1.0, -1.0, 1.0, -1.0])
    >>> t = triangle_balance(g)
    >>> t.n_triangles, t.n_unbalanced, t.fraction_unbalanced
    (2, 1, 0.5)
    >>> t.node_triangles.tolist(), t.node_unbalanced.tolist()
    ([2, 1, 2, 1], [1, 1, 1, 0])

    A reciprocal pair ``0 <-> 1`` with weights ``+1`` and ``-1`` cancels under "sum" and gives
    two triangles, one of them unbalanced, under "multi":

    >>> g = SignedGraph.from_edges([0, 1, 1, 2], [1, 0, 2, 0], [1.0, -1.0, 1.0, 1.0])
    >>> triangle_balance(g).n_triangles, triangle_balance(g, "multi").n_unbalanced
    (0, 1)
    """
    g = signed_graph(g, "triangle_balance")
    choice("reciprocal", reciprocal, RECIPROCAL)
    a = g.adj.tocsr(copy=True)
    a.setdiag(0)
    a.eliminate_zeros()
    if reciprocal == "sum":
        s = (a + a.T).tocsr()
        s.data = np.sign(s.data)
        s.eliminate_zeros()
        b = abs(s)
    else:
        sg = a.copy()
        sg.data = np.sign(sg.data)
        s = (sg + sg.T).tocsr()
        bb = abs(sg)
        b = (bb + bb.T).tocsr()
        s.eliminate_zeros()
    n = g.n_nodes
    if n <= 6000:
        sd = s.toarray()
        bd = b.toarray()
        node_signed = np.einsum("ij,ij->i", sd, sd @ sd)
        node_all = np.einsum("ij,ij->i", bd, bd @ bd)
    else:
        node_signed = np.asarray(s.multiply(s @ s).sum(axis=1)).ravel()
        node_all = np.asarray(b.multiply(b @ b).sum(axis=1)).ravel()
    node_tri = np.rint(node_all / 2).astype(np.int64)
    node_unb = np.rint((node_all - node_signed) / 4).astype(np.int64)
    n_tri = int(node_tri.sum() // 3)
    n_unb = int(node_unb.sum() // 3)
    share = node_unb / n_unb if n_unb else np.zeros(n)
    frac = n_unb / n_tri if n_tri else float("nan")
    return TriangleBalance(n_tri, n_unb, float(frac), node_tri, node_unb, share, reciprocal)

