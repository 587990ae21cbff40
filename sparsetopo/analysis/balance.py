"""Structural balance of signed directed graphs: feed-forward-loop balance (Zhang et al. 2023) and
undirected triangle balance (Cartwright-Harary)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsetopo.analysis.graphs import SignedGraph
from sparsetopo.analysis.triads import FFL_PER_CLASS, FFLCounts, ffl_counts
from sparsetopo.errors import InputError

#: The FFL-holding triad classes Zhang et al. 2023 use (030C is a pure cycle and holds none).
PAPER_FFL_CLASSES: tuple[str, ...] = ("030T", "120U", "120D", "300")
#: Every triad class that holds at least one FFL (i->j, j->k, i->k): the pooled mode counts these.
ALL_FFL_CLASSES: tuple[str, ...] = tuple(FFL_PER_CLASS)


def paper_preprocess(g: SignedGraph) -> tuple[SignedGraph, np.ndarray]:
    """Zhang et al. 2023 preprocessing, one pass of each step in this order: drop isolated nodes,
    then drop nodes of total degree 1 (in + out, a self-loop counting 2 as in networkx), then drop
    self-loops. Returns the graph on the kept nodes (relabelled 0..k-1) and the kept original ids.

    >>> g = SignedGraph.from_edges([0, 1, 3], [1, 1, 4], [1.0, 1.0, 1.0], n_nodes=6)
    >>> h, kept = paper_preprocess(g)
    >>> kept.tolist(), h.n_edges
    ([1], 0)
    """
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
    """Result of :func:`ffl_balance`.

    ratio:      the headline balance ratio of the chosen ``mode``.
    per_class:  {class: (balanced, total)} FFL instances for every FFL-holding class
                (030T, 120U, 120D, 120C, 210, 300).
    balanced, total, unbalanced: FFL instances summed over the classes the mode uses
                (pooled: all six; paper: 030T, 120U, 120D, 300).
    mode, preprocess: as passed.
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
    """Structural balance of feed-forward loops (Zhang, Moore, Yan, Li 2023, Commun. Phys.).

    An FFL is i->j, j->k, i->k on distinct nodes; it is balanced iff
    sign(w_ij) sign(w_jk) sign(w_ik) > 0. A 030T triad holds 1 FFL, 120U and 120D hold 2, 300
    holds 6, 030C (a pure 3-cycle) none; 120C and 210 also hold FFLs (1 and 3).

    mode="pooled" (clean): balanced FFLs / all FFLs, over every FFL in the graph (all six classes).
    mode="paper" (the authors' aggregation): BR_c = balanced / total FFLs of class c for
    c in 030T, 120U, 120D, 300; the ratio is the unweighted mean of BR_c over the classes with
    BR_c != 0 (a class with no FFL, or only unbalanced ones, is left out; NaN if none remains).
    preprocess="paper" applies :func:`paper_preprocess` first; FFL counts cannot change under it
    (degree-1 nodes and self-loops are in no FFL) but it is offered for parity with the paper's
    pipeline. With preprocess=None the graph is used as is (self-loops are ignored anyway).

    >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
    >>> ffl_balance(g).ratio, ffl_balance(g).unbalanced
    (0.0, 1)
    """
    if mode not in ("pooled", "paper"):
        raise InputError(f"unknown mode {mode!r}; use 'pooled' or 'paper'")
    if preprocess not in (None, "paper"):
        raise InputError(f"unknown preprocess {preprocess!r}; use None or 'paper'")
    if preprocess == "paper":
        g, _ = paper_preprocess(g)
    return balance_from_counts(ffl_counts(g), mode, preprocess)


def balance_from_counts(f: FFLCounts, mode: str = "pooled", preprocess: str | None = None) -> FFLBalance:
    """:class:`FFLBalance` of the given mode from precomputed :func:`ffl_counts`."""
    if mode not in ("pooled", "paper"):
        raise InputError(f"unknown mode {mode!r}; use 'pooled' or 'paper'")
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
    """Result of :func:`triangle_balance`.

    n_triangles, n_unbalanced: signed undirected triangles (a triangle is unbalanced iff the
    product of its three edge signs is negative); fraction_unbalanced = n_unbalanced / n_triangles.
    node_triangles[i], node_unbalanced[i]: triangles / unbalanced triangles containing node i.
    node_share[i] = node_unbalanced[i] / n_unbalanced (sums to 3 over nodes; 0 if none).
    """

    n_triangles: int
    n_unbalanced: int
    fraction_unbalanced: float
    node_triangles: np.ndarray
    node_unbalanced: np.ndarray
    node_share: np.ndarray
    reciprocal: str


def triangle_balance(g: SignedGraph, reciprocal: str = "sum") -> TriangleBalance:
    """Balance of the undirected signed triangles of a directed signed graph.

    The direction of edges is dropped. A node pair joined in one direction only takes that edge's
    sign. How a reciprocal pair (i->j and j->i) becomes undirected is a documented choice:

    * reciprocal="sum" (default): one undirected edge whose sign is sign(w_ij + w_ji), the sign of
      the symmetric part of W; a pair whose weights cancel exactly is dropped.
    * reciprocal="multi": each directed edge is its own undirected edge, and a node triple counts
      once per choice of one edge per pair (a triangle with k mutual pairs counts 2**k times).

    Self-loops are ignored. Per-node counts come from diag(S^3) / 2 and diag(|S|^3) / 2.

    >>> g = SignedGraph.from_edges([0, 1, 2], [1, 2, 0], [1.0, 1.0, -1.0])
    >>> triangle_balance(g).fraction_unbalanced
    1.0
    """
    if reciprocal not in ("sum", "multi"):
        raise InputError(f"unknown reciprocal {reciprocal!r}; use 'sum' or 'multi'")
    if not isinstance(g, SignedGraph):
        raise InputError(f"expected a SignedGraph (got {type(g).__name__})")
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

