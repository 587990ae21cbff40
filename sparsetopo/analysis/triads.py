"""Directed 3-node (triad) and 2-node (dyad) census, unsigned and signed.

Definitions follow the MAN classification (Holland & Leinhardt; names as in
``networkx.triadic_census``): each unordered triple of distinct nodes is classified by its numbers
of Mutual, Asymmetric and Null dyads plus a letter (D down, U up, C cyclic, T transitive).
Self-loops never take part in a triad or dyad.

The unsigned census is computed in closed form from a handful of matrix products of the dyad-type
matrices ``Asy`` (asymmetric edges) and ``M`` (mutual edges), evaluated only on the edges that close
a triangle, plus degree formulas for the open triads and the single-dyad triads; the 003 class is
``C(n, 3)`` minus the rest. No triple is enumerated: the products are dense (float32 BLAS) while
``n <= 4096`` (:data:`DENSE_MAX_N`) and sparse beyond.

The signed census (signed 3-node motifs of Zhang et al. [2]_) lists the triangles once
(degree-ordered orientation), and derives open and single-dyad triads from per-node sign-typed
degree counts minus the triangle contributions.

References
----------
.. [1] P. W. Holland and S. Leinhardt, "Local structure in social networks", Sociological
   Methodology 7, 1-45 (1976). doi:10.2307/270703
.. [2] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
   recurrent neural networks", Communications Physics 6, 243 (2023).
   doi:10.1038/s42005-023-01364-0
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sparsetopo.analysis._validation import choice, signed_graph
from sparsetopo.analysis.graphs import SignedGraph

__all__ = [
    "DENSE_MAX_N",
    "DYAD_CODES",
    "FFL_PER_CLASS",
    "METHODS",
    "TRIAD_CODES",
    "TRIAD_EDGE_ORDER",
    "FFLCounts",
    "SignedTriadCensus",
    "dense_census",
    "dense_sign_matrix",
    "dyad_census",
    "ffl_counts",
    "ffl_counts_from_census",
    "signed_triad_census",
    "signed_triad_keys",
    "triad_census",
]

#: The 16 MAN triad classes (Holland and Leinhardt) in the order networkx uses.
TRIAD_CODES: tuple[str, ...] = (
    "003", "012", "102", "021D", "021U", "021C", "111D", "111U",
    "030T", "030C", "201", "120D", "120U", "120C", "210", "300",
)  # fmt: skip

#: A representative labelled edge list (nodes a=0, b=1, c=2) for each class. A sign pattern string
#: in the signed census lists the signs of these edges in this order ("+" < "-"), minimised over
#: the relabellings that map the triad onto the representative.
TRIAD_EDGE_ORDER: dict[str, tuple[tuple[int, int], ...]] = {
    "003": (),
    "012": ((0, 1),),
    "102": ((0, 1), (1, 0)),
    "021D": ((1, 0), (1, 2)),
    "021U": ((0, 1), (2, 1)),
    "021C": ((0, 1), (1, 2)),
    "111D": ((0, 1), (1, 0), (2, 1)),
    "111U": ((0, 1), (1, 0), (1, 2)),
    "030T": ((0, 1), (1, 2), (0, 2)),
    "030C": ((0, 1), (1, 2), (2, 0)),
    "201": ((0, 1), (1, 0), (1, 2), (2, 1)),
    "120D": ((1, 0), (1, 2), (0, 2), (2, 0)),
    "120U": ((0, 1), (2, 1), (0, 2), (2, 0)),
    "120C": ((0, 1), (1, 2), (0, 2), (2, 0)),
    "210": ((0, 1), (1, 2), (2, 1), (0, 2), (2, 0)),
    "300": ((0, 1), (1, 0), (1, 2), (2, 1), (0, 2), (2, 0)),
}

#: Number of feed-forward loops (i->j, j->k, i->k on distinct nodes) inside one triad of a class.
FFL_PER_CLASS: dict[str, int] = {"030T": 1, "120U": 2, "120D": 2, "120C": 1, "210": 3, "300": 6}

#: Dyad motifs: null, asymmetric edge by sign, mutual pair by sign pattern (unordered).
DYAD_CODES: tuple[str, ...] = ("null", "asym+", "asym-", "mutual++", "mutual+-", "mutual--")

# ordered slots of a 3-node code: (0,1),(1,0),(0,2),(2,0),(1,2),(2,1); slot value 0 none, 1 +, 2 -
_SLOTS = ((0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1))
_POW3 = np.array([3**i for i in range(6)], dtype=np.int64)

#: ``method="auto"`` uses dense products while ``n_nodes <= DENSE_MAX_N`` (an ``n x n`` float32
#: matrix of this size takes 64 MiB; float32 keeps every integer count exact below 2**24).
DENSE_MAX_N = 4096
#: Census methods.
METHODS: tuple[str, ...] = ("auto", "dense", "sparse")
_SMALL_N = 512


# ============================================================================ dyad structure
@dataclass(frozen=True)
class _Parts:
    n: int
    asy: sp.csr_matrix  # binary, asymmetric edges i->j (j->i absent), no diagonal
    mut: sp.csr_matrix  # binary, both directions present, no diagonal
    sign: sp.csr_matrix  # +-1 for every edge, no diagonal


def _parts(g: SignedGraph) -> _Parts:
    a = g.adj.tocsr(copy=True)
    a.setdiag(0)
    a.eliminate_zeros()
    a.sort_indices()
    sign = a.copy()
    sign.data = np.sign(sign.data)
    b = a.copy()
    b.data = np.ones_like(b.data)
    mut = b.multiply(b.T).tocsr()
    mut.eliminate_zeros()
    asy = (b - mut).tocsr()
    asy.eliminate_zeros()
    return _Parts(g.n_nodes, asy, mut, sign)


def _rowsum(m: sp.spmatrix) -> np.ndarray:
    return np.asarray(m.sum(axis=1)).ravel().astype(np.int64)


def _colsum(m: sp.spmatrix) -> np.ndarray:
    return np.asarray(m.sum(axis=0)).ravel().astype(np.int64)


def _masked(z: sp.csr_matrix, prod: sp.csr_matrix) -> int:
    """Sum over the nonzeros (i, k) of z of z[i, k] * prod[i, k] (exact integer)."""
    if z.nnz == 0:
        return 0
    coo = z.tocoo()
    vals = np.asarray(prod[coo.row, coo.col], dtype=np.float64).ravel()
    return round(float(np.dot(vals, coo.data.astype(np.float64))))


def _matmul(x: sp.csr_matrix, y: sp.csr_matrix) -> sp.csr_matrix:
    return (x @ y).tocsr()


def _closed_counts(p: _Parts) -> dict[str, int]:
    """Count the seven triangle classes with sparse products (the large-graph path)."""
    asy, mut = p.asy, p.mut
    p_aa = _matmul(asy, asy)
    c030t = _masked(asy, p_aa)
    c030c = _masked(asy.T.tocsr(), p_aa) // 3
    c120c = _masked(mut, p_aa)
    del p_aa
    c120d = _masked(asy, _matmul(asy, mut)) // 2
    c120u = _masked(asy, _matmul(mut, asy)) // 2
    p_mm = _matmul(mut, mut)
    c210 = _masked(asy, p_mm)
    c300 = _masked(mut, p_mm) // 6
    return {
        "030T": c030t, "030C": c030c, "120D": c120d, "120U": c120u,
        "120C": c120c, "210": c210, "300": c300,
    }  # fmt: skip


def _census_from_parts(p: _Parts, closed: dict[str, int]) -> dict[str, int]:
    return _census_from_degrees(
        p.n, _rowsum(p.asy), _colsum(p.asy), _rowsum(p.mut), int(p.mut.nnz) // 2, closed
    )


def _census_from_degrees(
    n: int, dout: np.ndarray, din: np.ndarray, dm: np.ndarray, m_m: int, closed: dict[str, int]
) -> dict[str, int]:
    d = dout + din + dm
    t = closed

    def c2(x: np.ndarray) -> int:
        return int(np.sum(x * (x - 1) // 2))

    m_a = int(dout.sum())
    c: dict[str, int] = dict.fromkeys(TRIAD_CODES, 0)
    c.update(t)
    c["012"] = (
        m_a * n
        - int(np.dot(d, dout + din))
        + 3 * (t["030T"] + t["030C"])
        + 2 * (t["120D"] + t["120U"] + t["120C"])
        + t["210"]
    )
    c["102"] = (
        m_m * n
        - int(np.dot(d, dm))
        + (t["120D"] + t["120U"] + t["120C"])
        + 2 * t["210"]
        + 3 * t["300"]
    )
    c["021D"] = c2(dout) - t["030T"] - t["120D"]
    c["021U"] = c2(din) - t["030T"] - t["120U"]
    c["021C"] = int(np.dot(din, dout)) - t["030T"] - 3 * t["030C"] - t["120C"]
    c["111D"] = int(np.dot(dm, din)) - 2 * t["120D"] - t["120C"] - t["210"]
    c["111U"] = int(np.dot(dm, dout)) - 2 * t["120U"] - t["120C"] - t["210"]
    c["201"] = c2(dm) - t["210"] - 3 * t["300"]
    total = n * (n - 1) * (n - 2) // 6
    c["003"] = total - sum(v for k, v in c.items() if k != "003")
    return {k: int(c[k]) for k in TRIAD_CODES}


def _use_dense(g: SignedGraph, method: str) -> bool:
    """Whether the census of ``g`` uses dense products (validates ``method``)."""
    choice("method", method, METHODS)
    return method == "dense" or (method == "auto" and g.n_nodes <= DENSE_MAX_N)


def dense_sign_matrix(g: SignedGraph) -> np.ndarray:
    """Return the graph's edge signs as a dense ``float32`` matrix without its diagonal.

    Parameters
    ----------
    g : SignedGraph
        The graph.

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` array, ``s[i, j]`` = sign of the weight of i -> j (1, -1, or 0 for no
        edge); self-loops are dropped. The input of :func:`dense_census`.

    Examples
    --------
    >>> from sparsetopo.analysis import SignedGraph
    >>> dense_sign_matrix(SignedGraph.from_edges([0, 1, 1], [1, 0, 1], [2.0, -0.5, 1.0]))
    array([[ 0.,  1.],
           [-1.,  0.]], dtype=float32)
    """
    s = np.zeros((g.n_nodes, g.n_nodes), dtype=np.float32)
    coo = g.adj.tocoo()
    off = coo.row != coo.col
    s[coo.row[off], coo.col[off]] = np.sign(coo.data[off])
    return s


def _msum(z: np.ndarray, p: np.ndarray) -> int:
    """Exact sum(z * p) for integer-valued float32 arrays (float64 accumulation)."""
    return round(float(np.multiply(z, p).sum(dtype=np.float64)))


def dense_census(
    s: np.ndarray, signed: bool, blas: bool = False
) -> tuple[dict[str, int], dict[str, int]]:
    """Compute the triad census and, if ``signed``, the FFL sign sums from a dense sign matrix.

    The dense path of :func:`triad_census` and :func:`ffl_counts` (matrix products), for
    callers that hold a dense sign matrix already, e.g. a null-model chain's state.

    Parameters
    ----------
    s : numpy.ndarray
        ``(n, n)`` signs (1, -1, 0) with a zero diagonal, as :func:`dense_sign_matrix` returns.
    signed : bool
        Also compute, per FFL class, the sum over its FFLs of the product of their three signs.
    blas : bool
        Use dense (BLAS) products even for small ``n``; for callers that limit BLAS to one
        thread (the default uses scipy's single-threaded sparse products up to 512 nodes).

    Returns
    -------
    census : dict of str to int
        Triads per MAN class, as :func:`triad_census`.
    sums : dict of str to int
        Per FFL class (030T, 120U, 120D, 120C, 210, 300), the signed sum; empty unless
        ``signed``. :func:`ffl_counts_from_census` turns both into :class:`FFLCounts`.

    Notes
    -----
    With A the asymmetric and M the mutual part of the adjacency (0/1), every closed class is
    a trace-like sum of products, e.g. 030T = sum(A * (A @ A)), 030C = sum(A.T * (A @ A)) / 3,
    300 = sum(M * (M @ M)) / 6; the open classes follow from the degrees. The signed sums use
    the signed parts S * A and S * M in the same products.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[0, 1, -1], [0, 0, 1], [0, 0, 0]], dtype=np.float32)  # i->j, j->k, i->k
    >>> census, sums = dense_census(s, signed=True)
    >>> census["030T"], sums["030T"]
    (1, -1)
    """
    b = (s != 0).astype(np.float32)
    mut = b * b.T
    asy = b - mut
    n = s.shape[0]
    if n <= _SMALL_N and not blas:
        # small graphs: scipy's single-threaded sparse x dense product; multithreaded BLAS on
        # tiny matrices is dominated by thread start-up and collapses on a loaded machine
        def mm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return np.asarray(sp.csr_matrix(x) @ y)

    else:

        def mm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return x @ y

    p_aa = mm(asy, asy)
    t = {"030T": _msum(asy, p_aa), "030C": _msum(asy.T, p_aa) // 3, "120C": _msum(mut, p_aa)}
    del p_aa
    t["120D"] = _msum(asy, mm(asy, mut)) // 2
    t["120U"] = _msum(asy, mm(mut, asy)) // 2
    p_mm = mm(mut, mut)
    t["210"] = _msum(asy, p_mm)
    t["300"] = _msum(mut, p_mm) // 6
    del p_mm
    dout = asy.sum(axis=1, dtype=np.float64).astype(np.int64)
    din = asy.sum(axis=0, dtype=np.float64).astype(np.int64)
    dm = mut.sum(axis=1, dtype=np.float64).astype(np.int64)
    census = _census_from_degrees(n, dout, din, dm, int(dm.sum()) // 2, t)
    sums: dict[str, int] = {}
    if signed:
        sa = s * asy
        sm = s * mut
        q = mm(sa, sa)
        sums["030T"] = _msum(sa, q)
        sums["120C"] = _msum(sm, q)
        q = mm(sa, sm)
        sums["120D"] = _msum(sa, q)
        sums["210"] = _msum(sm, q)
        q = mm(sm, sa)
        sums["120U"] = _msum(sa, q)
        sums["210"] += _msum(sm, q)
        q = mm(sm, sm)
        sums["210"] += _msum(sa, q)
        sums["300"] = _msum(sm, q)
    return census, sums


def triad_census(g: SignedGraph, method: str = "auto") -> dict[str, int]:
    """Count every unordered triple of distinct nodes by its MAN class.

    Signs and weights are ignored, and so are self-loops; the result equals
    ``networkx.triadic_census`` on the same directed graph.

    Parameters
    ----------
    g : SignedGraph
        The graph.
    method : {"auto", "dense", "sparse"}, default "auto"
        How the matrix products are computed: "dense" (float32 BLAS on ``n x n`` arrays, exact
        for ``n < 2**24``), "sparse" (scipy sparse products, for graphs too large for dense
        arrays) or "auto" (dense while ``g.n_nodes <= DENSE_MAX_N`` = 4096, else sparse). All
        three give the same counts.

    Returns
    -------
    dict of str to int
        Count per class, keys in the order of :data:`TRIAD_CODES` (003, 012, ..., 300); the
        values sum to ``C(n, 3)``.

    Raises
    ------
    InputError
        If ``g`` is not a SignedGraph or ``method`` is unknown.

    See Also
    --------
    signed_triad_census : the same triads split by edge signs.

    Notes
    -----
    With ``A`` the 0/1 matrix of asymmetric edges and ``M`` that of mutual pairs (no diagonal),
    the closed classes are masked sums of products, for example
    ``N(030T) = sum(A o (A A))``, ``N(030C) = sum(A^T o (A A)) / 3`` and
    ``N(300) = sum(M o (M M)) / 6``; the open classes follow from degrees, e.g.
    ``N(021D) = sum_i C(out_A(i), 2) - N(030T) - N(120D)``, and
    ``N(003) = C(n, 3) - sum of the others``. The class names are the MAN codes of Holland and
    Leinhardt [1]_.

    References
    ----------
    .. [1] P. W. Holland and S. Leinhardt, "Local structure in social networks", Sociological
       Methodology 7, 1-45 (1976). doi:10.2307/270703

    Examples
    --------
    A feed-forward loop 0 -> 1 -> 2, 0 -> 2 is one 030T triad:

    >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
    >>> c = triad_census(g)
    >>> c["030T"], c["003"], sum(c.values())
    (1, 0, 1)

    With an isolated fourth node, each of its three triads holds one edge (class 012):

    >>> g4 = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0], n_nodes=4)
    >>> c = triad_census(g4, method="sparse")
    >>> c["030T"], c["012"], c["003"], sum(c.values())
    (1, 3, 0, 4)
    """
    g = signed_graph(g, "triad_census")
    if _use_dense(g, method):
        return dense_census(dense_sign_matrix(g), signed=False)[0]
    p = _parts(g)
    return _census_from_parts(p, _closed_counts(p))


# ============================================================================ FFL sign counts
@dataclass(frozen=True)
class FFLCounts:
    """Feed-forward loops per MAN class of their triad; the result of :func:`ffl_counts`.

    Attributes
    ----------
    total : dict of str to int
        FFL instances per class (030T, 120U, 120D, 120C, 210, 300).
    balanced : dict of str to int
        Those of them whose three edge signs multiply to a positive number.
    census : dict of str to int
        The unsigned :func:`triad_census` of the same graph.
    """

    total: dict[str, int]
    balanced: dict[str, int]
    census: dict[str, int]


def ffl_counts(g: SignedGraph, method: str = "auto") -> FFLCounts:
    """Count feed-forward loops and balanced ones per triad class.

    Parameters
    ----------
    g : SignedGraph
        The graph (self-loops are ignored).
    method : {"auto", "dense", "sparse"}, default "auto"
        As in :func:`triad_census` (dense while ``g.n_nodes <= 4096``).

    Returns
    -------
    FFLCounts
        Total and balanced FFLs per class (030T, 120U, 120D, 120C, 210, 300) and the census.

    Raises
    ------
    InputError
        If ``g`` is not a SignedGraph or ``method`` is unknown.

    See Also
    --------
    ffl_balance : the balance ratios built from these counts.

    Notes
    -----
    An FFL is an ordered triple ``(i, j, k)`` of distinct nodes with edges ``i -> j``,
    ``j -> k`` and ``i -> k``; its class is the MAN class of the triad ``{i, j, k}``. It is
    balanced iff ``sign(w_ij) sign(w_jk) sign(w_ik) > 0`` (Zhang et al. [1]_). A triad of class
    ``c`` holds :data:`FFL_PER_CLASS` ``[c]`` FFLs, so ``total[c] = FFL_PER_CLASS[c] * N(c)``.
    The sum ``S_c`` of the FFL sign products of class ``c`` is a masked sum of products of the
    signed asymmetric and mutual matrices (e.g. ``S_030T = sum(A_s o (A_s A_s))``), and
    ``balanced[c] = (total[c] + S_c) / 2``.

    References
    ----------
    .. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
    One FFL whose signs multiply to ``(+1)(+1)(-1) < 0``:

    >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
    >>> f = ffl_counts(g)
    >>> f.total["030T"], f.balanced["030T"]
    (1, 0)

    Three nodes joined both ways with positive edges (class 300) hold six balanced FFLs:

    >>> f = ffl_counts(SignedGraph.from_matrix([[0, 1, 1], [1, 0, 1], [1, 1, 0]]))
    >>> f.total["300"], f.balanced["300"], f.census["300"]
    (6, 6, 1)
    """
    g = signed_graph(g, "ffl_counts")
    if _use_dense(g, method):
        census, signed = dense_census(dense_sign_matrix(g), signed=True)
        return ffl_counts_from_census(census, signed)
    p = _parts(g)
    census = _census_from_parts(p, _closed_counts(p))
    sa = p.sign.multiply(p.asy).tocsr()
    sm = p.sign.multiply(p.mut).tocsr()
    sa.eliminate_zeros()
    sm.eliminate_zeros()
    p_aa = _matmul(sa, sa)
    s030t = _masked(sa, p_aa)
    s120c = _masked(sm, p_aa)
    del p_aa
    p_am = _matmul(sa, sm)
    s120d = _masked(sa, p_am)
    s210 = _masked(sm, p_am)
    del p_am
    p_ma = _matmul(sm, sa)
    s120u = _masked(sa, p_ma)
    s210 += _masked(sm, p_ma)
    del p_ma
    p_mm = _matmul(sm, sm)
    s210 += _masked(sa, p_mm)
    s300 = _masked(sm, p_mm)
    signed = {"030T": s030t, "120U": s120u, "120D": s120d, "120C": s120c, "210": s210, "300": s300}
    return ffl_counts_from_census(census, signed)


def ffl_counts_from_census(census: dict[str, int], signed: dict[str, int]) -> FFLCounts:
    """Return the :class:`FFLCounts` of a triad census and its per-class FFL sign sums.

    Parameters
    ----------
    census : dict of str to int
        Triads per MAN class (:func:`triad_census` or :func:`dense_census`).
    signed : dict of str to int
        Per FFL class, the sum of the sign products of its FFLs (:func:`dense_census`).

    Returns
    -------
    FFLCounts
        total = FFLs per class (each triad of a class holds a fixed number of FFLs), balanced =
        (total + sum) / 2 of them have a positive sign product.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[0, 1, -1], [0, 0, 1], [0, 0, 0]], dtype=np.float32)
    >>> f = ffl_counts_from_census(*dense_census(s, signed=True))
    >>> f.total["030T"], f.balanced["030T"]
    (1, 0)
    """
    total = {c: FFL_PER_CLASS[c] * census[c] for c in FFL_PER_CLASS}
    balanced = {c: (total[c] + signed[c]) // 2 for c in FFL_PER_CLASS}
    return FFLCounts(total, balanced, census)


# ============================================================================ signed census
def _code_matrix(code: int) -> np.ndarray:
    m = np.zeros((3, 3), dtype=np.int8)
    for s, (i, j) in enumerate(_SLOTS):
        m[i, j] = (code // 3**s) % 3
    return m


@functools.lru_cache(maxsize=1)
def _lookup() -> tuple[list[tuple[str, str]], np.ndarray]:
    """All (class, sign pattern) keys and, for each of the 3**6 slot codes, its key index."""
    rep_sets = {c: frozenset(e) for c, e in TRIAD_EDGE_ORDER.items()}
    keys: list[tuple[str, str]] = []
    index: dict[tuple[str, str], int] = {}
    table = np.zeros(3**6, dtype=np.int64)
    for code in range(3**6):
        m = _code_matrix(code)
        best: tuple[str, str] | None = None
        for perm in itertools.permutations(range(3)):
            # relabel: node perm[a] of the triad plays representative node a
            edges = frozenset(
                (a, b) for a in range(3) for b in range(3) if a != b and m[perm[a], perm[b]]
            )
            for cls, es in rep_sets.items():
                if es == edges:
                    signs = "".join(
                        "+" if m[perm[a], perm[b]] == 1 else "-" for a, b in TRIAD_EDGE_ORDER[cls]
                    )
                    if best is None or signs < best[1]:
                        best = (cls, signs)
        assert best is not None
        if best not in index:
            index[best] = len(keys)
            keys.append(best)
        table[code] = index[best]
    order = sorted(range(len(keys)), key=lambda i: (TRIAD_CODES.index(keys[i][0]), keys[i][1]))
    remap = np.empty(len(keys), dtype=np.int64)
    remap[order] = np.arange(len(keys))
    return [keys[i] for i in order], remap[table]


def signed_triad_keys() -> list[tuple[str, str]]:
    """List every key of the signed triad census.

    Returns
    -------
    list of (str, str)
        ``(MAN class, sign pattern)`` pairs in the order of :data:`TRIAD_CODES`, then by
        pattern ("+" before "-").

    Examples
    --------
    >>> keys = signed_triad_keys()
    >>> keys[:3], len(keys)
    ([('003', ''), ('012', '+'), ('012', '-')], 138)
    >>> [k for k in keys if k[0] == "030T"]
    [('030T', '+++'), ('030T', '++-'), ('030T', '+-+'), ('030T', '+--'), ('030T', '-++'), ('030T', '-+-'), ('030T', '--+'), ('030T', '---')]
    """
    return list(_lookup()[0])


def _edge_lookup(p: _Parts) -> tuple[np.ndarray, np.ndarray]:
    s = p.sign.tocoo()
    keys = s.row.astype(np.int64) * p.n + s.col.astype(np.int64)
    order = np.argsort(keys)
    vals = np.where(s.data[order] > 0, 1, 2).astype(np.int64)
    return keys[order], vals


def _slot_values(keys: np.ndarray, vals: np.ndarray, n: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    q = x.astype(np.int64) * n + y.astype(np.int64)
    pos = np.searchsorted(keys, q)
    pos_c = np.minimum(pos, max(len(keys) - 1, 0))
    hit = (pos < len(keys)) & (keys[pos_c] == q) if len(keys) else np.zeros(len(q), bool)
    return np.where(hit, vals[pos_c] if len(keys) else 0, 0)


def _triangles(p: _Parts, chunk: int = 2_000_000) -> np.ndarray:
    """All triangles of the undirected simple graph, one row (u, v, w) each."""
    und = ((p.asy + p.asy.T + p.mut) > 0).astype(np.int8).tocsr()
    deg = _rowsum(und)
    rank = np.empty(p.n, dtype=np.int64)
    rank[np.lexsort((np.arange(p.n), deg))] = np.arange(p.n)
    coo = sp.triu(und, k=1).tocoo()
    r, c = coo.row.astype(np.int64), coo.col.astype(np.int64)
    lo_first = rank[r] < rank[c]
    u = np.where(lo_first, r, c)
    v = np.where(lo_first, c, r)
    # oriented CSR (low rank -> high rank)
    dag = sp.csr_matrix((np.ones(len(u), np.int8), (u, v)), shape=(p.n, p.n))
    dag.sort_indices()
    keys = np.sort(u * p.n + v)
    indptr, indices = dag.indptr.astype(np.int64), dag.indices.astype(np.int64)
    outdeg = np.diff(indptr)
    cnt = outdeg[v]  # for edge (u, v): candidates w in out(v), check (u, w)
    out = []
    start = 0
    cum = np.cumsum(cnt)
    while start < len(u):
        base = cum[start - 1] if start else 0
        stop = int(np.searchsorted(cum, base + chunk, side="right"))
        stop = max(stop, start + 1)
        uu, vv, cc = u[start:stop], v[start:stop], cnt[start:stop]
        tot = int(cc.sum())
        if tot:
            rep_u = np.repeat(uu, cc)
            rep_v = np.repeat(vv, cc)
            offs = np.arange(tot) - np.repeat(np.cumsum(cc) - cc, cc)
            w = indices[indptr[rep_v] + offs]
            q = rep_u * p.n + w
            pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
            hit = keys[pos] == q
            out.append(np.stack([rep_u[hit], rep_v[hit], w[hit]], axis=1))
        start = stop
    if not out:
        return np.zeros((0, 3), dtype=np.int64)
    return np.concatenate(out)


@dataclass(frozen=True)
class SignedTriadCensus:
    """The signed triad and dyad census; the result of :func:`signed_triad_census`.

    Attributes
    ----------
    triads : dict of (str, str) to int
        Unordered triples per ``(MAN class, sign pattern)``; the pattern lists the signs of the
        class's :data:`TRIAD_EDGE_ORDER` edges, minimised over isomorphisms.
    dyads : dict of str to int
        Unordered node pairs per :data:`DYAD_CODES` type.
    """

    triads: dict[tuple[str, str], int]
    dyads: dict[str, int]

    def unsigned(self) -> dict[str, int]:
        """Collapse the sign patterns: the unsigned :func:`triad_census`.

        Returns
        -------
        dict of str to int
            Count per MAN class.

        Examples
        --------
        >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
        >>> signed_triad_census(g).unsigned() == triad_census(g)
        True
        """
        out = dict.fromkeys(TRIAD_CODES, 0)
        for (cls, _), v in self.triads.items():
            out[cls] += v
        return out

    def to_frame(self) -> pd.DataFrame:
        """Return the triad counts as a table.

        Returns
        -------
        pandas.DataFrame
            Columns ``triad``, ``signs`` and ``count``, one row per key.

        Examples
        --------
        >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
        >>> df = signed_triad_census(g).to_frame()
        >>> df[df["count"] > 0].to_dict("records")
        [{'triad': '030T', 'signs': '++-', 'count': 1}]
        """
        rows = [(c, s, v) for (c, s), v in self.triads.items()]
        return pd.DataFrame(rows, columns=["triad", "signs", "count"])


def dyad_census(g: SignedGraph) -> dict[str, int]:
    """Count the unordered pairs of distinct nodes by their signed dyad type.

    Parameters
    ----------
    g : SignedGraph
        The graph (self-loops are ignored).

    Returns
    -------
    dict of str to int
        Count per :data:`DYAD_CODES` type: "null" (no edge), "asym+" / "asym-" (one edge, by its
        sign), "mutual++", "mutual+-", "mutual--" (both directions, signs unordered). The values
        sum to ``C(n, 2)``.

    Raises
    ------
    InputError
        If ``g`` is not a SignedGraph.

    Notes
    -----
    ``null = C(n, 2) - asym+ - asym- - mutual++ - mutual+- - mutual--``. These are the signed
    2-node motifs of Zhang et al. [1]_.

    References
    ----------
    .. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
    >>> d = dyad_census(SignedGraph.from_edges([0, 1, 1], [1, 0, 2], [1.0, -2.0, -1.0]))
    >>> d["mutual+-"], d["asym-"], d["null"]
    (1, 1, 1)
    """
    g = signed_graph(g, "dyad_census")
    p = _parts(g)
    sa = p.sign.multiply(p.asy).tocsr()
    pos_a = int(np.count_nonzero(sa.data > 0))
    neg_a = int(np.count_nonzero(sa.data < 0))
    sm = p.sign.multiply(p.mut).tocoo()
    up = sm.row < sm.col
    keys_rev = sm.col.astype(np.int64) * p.n + sm.row
    keys = sm.row.astype(np.int64) * p.n + sm.col
    order = np.argsort(keys)
    rev_sign = sm.data[order][np.searchsorted(keys[order], keys_rev)]
    a, b = sm.data[up], rev_sign[up]
    npos = (a > 0).astype(int) + (b > 0).astype(int)
    out = {
        "asym+": pos_a,
        "asym-": neg_a,
        "mutual++": int(np.count_nonzero(npos == 2)),
        "mutual+-": int(np.count_nonzero(npos == 1)),
        "mutual--": int(np.count_nonzero(npos == 0)),
    }
    out["null"] = p.n * (p.n - 1) // 2 - sum(out.values())
    return {k: out[k] for k in DYAD_CODES}


def signed_triad_census(g: SignedGraph) -> SignedTriadCensus:
    """Count signed 3-node motifs and signed 2-node motifs.

    Parameters
    ----------
    g : SignedGraph
        The graph (self-loops are ignored).

    Returns
    -------
    SignedTriadCensus
        ``triads[(class, pattern)]`` for every key of :func:`signed_triad_keys` and ``dyads``
        as in :func:`dyad_census`.

    Raises
    ------
    InputError
        If ``g`` is not a SignedGraph.

    See Also
    --------
    triad_census : the unsigned census (equal to ``.unsigned()``).

    Notes
    -----
    Every unordered triple of distinct nodes is counted once under the key
    ``(MAN class, sign pattern)``; the pattern lists the signs of the class's edges in the order
    of :data:`TRIAD_EDGE_ORDER` and is the smallest such string over the relabellings that map the
    triad onto the class's representative ("+" sorts before "-"), so isomorphic signed triads
    share a key (Zhang et al. [1]_). Triangles are listed once; open triads come from
    sign-typed degree pairs ``sum_i C(d_s(i), 2)`` or ``sum_i d_s(i) d_t(i)`` and single-dyad
    triads from ``sum over pairs (n - d(u) - d(v))``, each minus the triangles' share.

    References
    ----------
    .. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
    >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
    >>> c = signed_triad_census(g)
    >>> c.triads[("030T", "++-")], c.dyads["asym+"], c.dyads["asym-"]
    (1, 2, 1)

    Relabelling the nodes does not change the key:

    >>> h = SignedGraph.from_edges([2, 0, 2], [0, 1, 1], [1.0, 1.0, -1.0])
    >>> signed_triad_census(h).triads[("030T", "++-")]
    1
    """
    g = signed_graph(g, "signed_triad_census")
    p = _parts(g)
    n = p.n
    keys_list, table = _lookup()
    counts = np.zeros(len(keys_list), dtype=object)
    counts[:] = 0
    ekeys, evals = _edge_lookup(p)

    # ---- triangles
    tri = _triangles(p)
    tri_hist = np.zeros(3**6, dtype=np.int64)
    if len(tri):
        code = np.zeros(len(tri), dtype=np.int64)
        for s, (i, j) in enumerate(_SLOTS):
            code += _slot_values(ekeys, evals, n, tri[:, i], tri[:, j]) * _POW3[s]
        tri_hist = np.bincount(code, minlength=3**6).astype(np.int64)

    # ---- per-node sign-typed degrees: state = out_state * 3 + in_state, 1..8
    coo = p.sign.tocoo()
    r, c = coo.row.astype(np.int64), coo.col.astype(np.int64)
    out_state = np.where(coo.data > 0, 1, 2)
    in_state_rc = _slot_values(ekeys, evals, n, c, r)  # state of c->r
    # pairs seen from r: (out = r->c, in = c->r); pairs with only c->r are seen from r via edge c->r
    st_from_r = out_state * 3 + in_state_rc
    only_in = in_state_rc == 0  # asym r->c: seen from c as (0, out_state)
    nodes = np.concatenate([r, c[only_in]])
    states = np.concatenate([st_from_r, out_state[only_in]])
    deg_state = np.zeros((n, 9), dtype=np.int64)
    np.add.at(deg_state, (nodes, states), 1)
    # same pair viewed from the other side: r->c asym gives c the state (0, out) = out
    # mutual pairs appear twice in (r, c) and (c, r), once per endpoint: correct.
    # and the asym edge r->c must also be counted at c: done via only_in above.
    d_und = deg_state[:, 1:].sum(axis=1)

    def code_of(slot_vals: dict[tuple[int, int], int]) -> int:
        return int(sum(v * 3 ** _SLOTS.index(k) for k, v in slot_vals.items()))

    def add(code: int, value: int) -> None:
        counts[table[code]] += int(value)

    # ---- open triads (centre 0, neighbours 1 and 2, 1-2 unconnected)
    open_counts: dict[tuple[int, int], int] = {}
    for s1 in range(1, 9):
        for s2 in range(s1, 9):
            a, b = deg_state[:, s1], deg_state[:, s2]
            open_counts[(s1, s2)] = int(np.sum(a * (a - 1) // 2)) if s1 == s2 else int(np.dot(a, b))
    # ---- single-dyad triads: per pair state (seen from the lower node id) sum of n - d_u - d_v
    # unordered connected pairs, state seen from the smaller endpoint
    pr_u = np.minimum(r, c)
    pr_v = np.maximum(r, c)
    pk = pr_u * n + pr_v
    uniq_k = np.unique(pk)
    pu, pv = uniq_k // n, uniq_k % n
    st_uv = _slot_values(ekeys, evals, n, pu, pv)
    st_vu = _slot_values(ekeys, evals, n, pv, pu)
    pair_state = st_uv * 3 + st_vu
    free = n - d_und[pu] - d_und[pv]
    single_counts = np.bincount(pair_state, weights=free.astype(np.float64), minlength=9)
    single: dict[int, int] = {s: round(single_counts[s]) for s in range(1, 9)}

    # ---- triangle corrections
    for tcode in np.nonzero(tri_hist)[0]:
        cnt = int(tri_hist[tcode])
        add(int(tcode), cnt)
        m = _code_matrix(int(tcode))
        for centre in range(3):
            o1, o2 = [x for x in range(3) if x != centre]
            s1 = int(m[centre, o1]) * 3 + int(m[o1, centre])
            s2 = int(m[centre, o2]) * 3 + int(m[o2, centre])
            open_counts[(min(s1, s2), max(s1, s2))] -= cnt
        for x, y in ((0, 1), (0, 2), (1, 2)):
            single[int(m[x, y]) * 3 + int(m[y, x])] += cnt

    for (s1, s2), v in open_counts.items():
        if v:
            add(
                code_of({(0, 1): s1 // 3, (1, 0): s1 % 3, (0, 2): s2 // 3, (2, 0): s2 % 3}),
                v,
            )
    for s, v in single.items():
        if v:
            add(code_of({(0, 1): s // 3, (1, 0): s % 3}), v)
    total = n * (n - 1) * (n - 2) // 6
    counts[table[0]] += total - int(sum(int(x) for x in counts))
    triads = {k: int(v) for k, v in zip(keys_list, counts, strict=True)}
    return SignedTriadCensus(triads, dyad_census(g))
