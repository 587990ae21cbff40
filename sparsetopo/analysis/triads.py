"""Directed 3-node (triad) and 2-node (dyad) census, unsigned and signed.

Definitions follow the MAN classification (Holland & Leinhardt; names as in
``networkx.triadic_census``): each unordered triple of distinct nodes is classified by its numbers
of Mutual, Asymmetric and Null dyads plus a letter (D down, U up, C cyclic, T transitive).
Self-loops never take part in a triad or dyad.

The unsigned census is computed in closed form from a handful of matrix products of the dyad-type
matrices ``Asy`` (asymmetric edges) and ``M`` (mutual edges), evaluated only on the edges that close
a triangle, plus degree formulas for the open triads and the single-dyad triads; the 003 class is
``C(n, 3)`` minus the rest. No triple is enumerated, so the cost is a few dense BLAS products for
``n`` up to a few thousand and sparse products beyond.

The signed census (Zhang et al. 2023, Commun. Phys., signed 3-node motifs) lists the triangles
once (degree-ordered orientation), and derives open and single-dyad triads from per-node
sign-typed degree counts minus the triangle contributions.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sparsetopo.analysis.graphs import SignedGraph
from sparsetopo.errors import InputError

#: The 16 MAN triad classes in the order networkx uses.
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

# Dense BLAS products are used while n <= this (float32 keeps every integer count exact below 2**24).
_DENSE_MAX_N = 4096
_SMALL_N = 512


# ============================================================================ dyad structure
@dataclass(frozen=True)
class _Parts:
    n: int
    asy: sp.csr_matrix  # binary, asymmetric edges i->j (j->i absent), no diagonal
    mut: sp.csr_matrix  # binary, both directions present, no diagonal
    sign: sp.csr_matrix  # +-1 for every edge, no diagonal


def _parts(g: SignedGraph) -> _Parts:
    if not isinstance(g, SignedGraph):
        raise InputError(
            f"expected a SignedGraph (got {type(g).__name__}); build one with SignedGraph.from_edges"
        )
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


class _Products:
    """Masked sums sum(Z o (X @ Y)) for the few (X, Y, Z) the census needs, dense or sparse."""

    def __init__(self, n: int, method: str) -> None:
        if method not in ("auto", "dense", "sparse"):
            raise InputError(f"unknown method {method!r}; use 'auto', 'dense' or 'sparse'")
        self.dense = method == "dense" or (method == "auto" and n <= _DENSE_MAX_N)

    def prep(self, x: sp.csr_matrix) -> Any:
        return x.toarray().astype(np.float32) if self.dense else x

    def masked(self, z: sp.csr_matrix, prod: Any) -> int:
        """sum over nonzeros (i, k) of z of z[i, k] * prod[i, k] (exact integer)."""
        if z.nnz == 0:
            return 0
        coo = z.tocoo()
        if self.dense:
            vals = prod[coo.row, coo.col].astype(np.float64)
        else:
            vals = np.asarray(prod[coo.row, coo.col], dtype=np.float64).ravel()
        return int(round(float(np.dot(vals, coo.data.astype(np.float64)))))

    def matmul(self, x: Any, y: Any) -> Any:
        if self.dense:
            return x @ y
        return (x @ y).tocsr()


def _closed_counts(p: _Parts, prods: _Products) -> dict[str, int]:
    asy, mut = p.asy, p.mut
    xa, xm = prods.prep(asy), prods.prep(mut)
    p_aa = prods.matmul(xa, xa)
    c030t = prods.masked(asy, p_aa)
    c030c = prods.masked(asy.T.tocsr(), p_aa) // 3
    c120c = prods.masked(mut, p_aa)
    del p_aa
    c120d = prods.masked(asy, prods.matmul(xa, xm)) // 2
    c120u = prods.masked(asy, prods.matmul(xm, xa)) // 2
    p_mm = prods.matmul(xm, xm)
    c210 = prods.masked(asy, p_mm)
    c300 = prods.masked(mut, p_mm) // 6
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


def _use_dense(n: int, method: str) -> bool:
    if method not in ("auto", "dense", "sparse"):
        raise InputError(f"unknown method {method!r}; use 'auto', 'dense' or 'sparse'")
    return method == "dense" or (method == "auto" and n <= _DENSE_MAX_N)


def _dense_sign(g: SignedGraph) -> np.ndarray:
    if not isinstance(g, SignedGraph):
        raise InputError(
            f"expected a SignedGraph (got {type(g).__name__}); build one with SignedGraph.from_edges"
        )
    s = np.zeros((g.n_nodes, g.n_nodes), dtype=np.float32)
    coo = g.adj.tocoo()
    off = coo.row != coo.col
    s[coo.row[off], coo.col[off]] = np.sign(coo.data[off])
    return s


def _msum(z: np.ndarray, p: np.ndarray) -> int:
    """Exact sum(z * p) for integer-valued float32 arrays (float64 accumulation)."""
    return int(round(float(np.multiply(z, p).sum(dtype=np.float64))))


def _dense_all(
    s: np.ndarray, signed: bool, blas: bool = False
) -> tuple[dict[str, int], dict[str, int]]:
    """Census and (if signed) per-class FFL sign sums from the dense sign matrix (no diagonal).
    ``blas``: use dense products even for small n (for callers that limit BLAS to one thread)."""
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
    """Count every unordered triple of distinct nodes by its MAN class (16 classes, 003 ... 300).

    Equal to ``networkx.triadic_census`` on the same directed graph (signs and weights ignored,
    self-loops ignored). ``method``: "dense" (BLAS float32 products, exact below 2**24 nodes),
    "sparse" (scipy sparse products) or "auto" (dense while n <= 6000).

    >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
    >>> c = triad_census(g)
    >>> c["030T"], c["003"], sum(c.values())
    (1, 0, 1)
    """
    if _use_dense(g.n_nodes if isinstance(g, SignedGraph) else 0, method):
        return _dense_all(_dense_sign(g), signed=False)[0]
    p = _parts(g)
    return _census_from_parts(p, _closed_counts(p, _Products(p.n, "sparse")))


# ============================================================================ FFL sign counts
@dataclass(frozen=True)
class FFLCounts:
    """Feed-forward loops (i->j, j->k, i->k, distinct nodes) per MAN class of their triad:
    ``total[c]`` FFL instances and ``balanced[c]`` of them with a positive sign product."""

    total: dict[str, int]
    balanced: dict[str, int]
    census: dict[str, int]


def ffl_counts(g: SignedGraph, method: str = "auto") -> FFLCounts:
    """Count FFLs and balanced FFLs per triad class (030T, 120U, 120D, 120C, 210, 300).

    An FFL is an ordered triple (i, j, k) of distinct nodes with edges i->j, j->k and i->k; its
    class is the MAN class of the triad {i, j, k}; it is balanced iff
    sign(w_ij) sign(w_jk) sign(w_ik) > 0 (Zhang et al. 2023). Signed sums of FFL sign products per
    class come from products of the signed asymmetric/mutual matrices, so
    balanced = (total + signed sum) / 2.

    >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
    >>> f = ffl_counts(g)
    >>> f.total["030T"], f.balanced["030T"]
    (1, 0)
    """
    if _use_dense(g.n_nodes if isinstance(g, SignedGraph) else 0, method):
        census, signed = _dense_all(_dense_sign(g), signed=True)
        return _ffl_result(census, signed)
    p = _parts(g)
    prods = _Products(p.n, "sparse")
    closed = _closed_counts(p, prods)
    census = _census_from_parts(p, closed)
    sa = p.sign.multiply(p.asy).tocsr()
    sm = p.sign.multiply(p.mut).tocsr()
    sa.eliminate_zeros()
    sm.eliminate_zeros()
    xa, xm = prods.prep(sa), prods.prep(sm)
    p_aa = prods.matmul(xa, xa)
    s030t = prods.masked(sa, p_aa)
    s120c = prods.masked(sm, p_aa)
    del p_aa
    p_am = prods.matmul(xa, xm)
    s120d = prods.masked(sa, p_am)
    s210 = prods.masked(sm, p_am)
    del p_am
    p_ma = prods.matmul(xm, xa)
    s120u = prods.masked(sa, p_ma)
    s210 += prods.masked(sm, p_ma)
    del p_ma
    p_mm = prods.matmul(xm, xm)
    s210 += prods.masked(sa, p_mm)
    s300 = prods.masked(sm, p_mm)
    signed = {"030T": s030t, "120U": s120u, "120D": s120d, "120C": s120c, "210": s210, "300": s300}
    return _ffl_result(census, signed)


def _ffl_result(census: dict[str, int], signed: dict[str, int]) -> FFLCounts:
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
    """Every (MAN class, sign pattern) key of the signed census, in class order then pattern."""
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
    """Signed census: ``triads[(class, pattern)]`` counts unordered triples (pattern = signs of
    the class's :data:`TRIAD_EDGE_ORDER` edges, minimised over isomorphisms); ``dyads`` counts
    unordered node pairs (see :data:`DYAD_CODES`)."""

    triads: dict[tuple[str, str], int]
    dyads: dict[str, int]

    def unsigned(self) -> dict[str, int]:
        out = dict.fromkeys(TRIAD_CODES, 0)
        for (cls, _), v in self.triads.items():
            out[cls] += v
        return out

    def to_frame(self) -> pd.DataFrame:
        rows = [(c, s, v) for (c, s), v in self.triads.items()]
        return pd.DataFrame(rows, columns=["triad", "signs", "count"])


def dyad_census(g: SignedGraph) -> dict[str, int]:
    """Unordered pairs of distinct nodes by type: "null", "asym+" / "asym-" (one edge, its sign),
    "mutual++", "mutual+-", "mutual--" (both directions, signs unordered). Self-loops ignored.

    >>> dyad_census(SignedGraph.from_edges([0, 1], [1, 0], [1.0, -2.0], n_nodes=3))["mutual+-"]
    1
    """
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
    """Signed 3-node motif census plus the signed 2-node motifs (Zhang et al. 2023).

    Every unordered triple of distinct nodes is counted once under the key
    ``(MAN class, sign pattern)``; the pattern lists the signs of the class's edges in the order of
    :data:`TRIAD_EDGE_ORDER` and is the smallest such string over relabellings that preserve the
    class's representative ("+" sorts before "-"), so isomorphic signed triads share a key.
    Collapsing the signs gives :func:`triad_census`.

    >>> g = SignedGraph.from_edges([0, 1, 0], [1, 2, 2], [1.0, 1.0, -1.0])
    >>> signed_triad_census(g).triads[("030T", "++-")]
    1
    """
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
    single: dict[int, int] = {s: int(round(single_counts[s])) for s in range(1, 9)}

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
