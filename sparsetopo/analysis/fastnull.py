"""Null-model statistics computed without rebuilding graphs.

Exact sign-shuffle moments of the FFL balance, vectorised sign-shuffle samples over enumerated
FFLs, and motif families evaluated on many samples of the signed triad census at once.

Sign shuffle (topology fixed, the sign vector uniformly permuted over the ``m`` edges, ``P``
positive and ``Q`` negative): the product of ``r`` distinct edges' signs has expectation

    mu_r = sum_j (-1)^j C(P, r - j) C(Q, j) / C(m, r)

(hypergeometric). An FFL's sign product X_f involves 3 distinct edges, so E[X_f] = mu_3; two FFLs
sharing k edges have X_f X_g = the product over their 6 - 2k non-shared edges, so
E[X_f X_g] = mu_(6 - 2k). With F FFLs and N_k ordered pairs of distinct FFLs sharing exactly k
edges (k = 0, 1, 2; two FFLs never share 3), the balanced count B = (F + sum_f X_f) / 2 has

    E[B] = F (1 + mu_3) / 2,
    Var[B] = (F (1 - mu_3^2) + sum_k N_k (mu_(6-2k) - mu_3^2)) / 4.

N_2 counts, for every mutual dyad {u, v}, the common in-neighbours and common out-neighbours
of u and v (two FFLs share two edges iff these form an out-star or in-star onto a mutual pair),
twice; N_1 follows from c_e, the number of FFLs through edge e: sum_e C(c_e, 2) = N_1 / 2 + N_2,
and N_0 = F (F - 1) - N_1 - N_2.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from math import comb

import numpy as np

from sparsetopo.analysis.balance import ALL_FFL_CLASSES, PAPER_FFL_CLASSES
from sparsetopo.analysis.graphs import SignedGraph
from sparsetopo.analysis.triads import (
    TRIAD_CODES,
    TRIAD_EDGE_ORDER,
    _lookup,
    signed_triad_keys,
)
from sparsetopo.errors import InputError

__all__ = [
    "CENSUS_FAMILIES",
    "FFLTriples",
    "SignShuffleMoments",
    "census_families",
    "ffl_columns",
    "ffl_triples",
    "key_tables",
    "sign_shuffle_ffl_moments",
]


# ============================================================================ exact moments
def _mu(p: int, q: int, r: int) -> float:
    """E[product of r distinct signs] under a uniform permutation of p plus and q minus signs."""
    m = p + q
    if r > m:
        return float("nan")
    num = sum((-1) ** j * comb(p, r - j) * comb(q, j) for j in range(0, r + 1))
    return num / comb(m, r)


@dataclass(frozen=True)
class SignShuffleMoments:
    """Exact sign-shuffle null moments of the balanced-FFL count (module docstring).

    Attributes
    ----------
    ffl : int
        FFLs (fixed by the topology).
    balanced : int
        Balanced FFLs of the graph itself.
    mean, var : float
        Null mean and variance of the balanced count.
    pairs : tuple of int
        (N_0, N_1, N_2): ordered pairs of distinct FFLs sharing 0, 1, 2 edges.
    """

    ffl: int
    balanced: int
    mean: float
    var: float
    pairs: tuple[int, int, int]

    @property
    def sd(self) -> float:
        """Null standard deviation of the balanced count (square root of ``var``)."""
        return float(np.sqrt(max(self.var, 0.0)))

    @property
    def z(self) -> float:
        """Exact Z of the balanced count (equal to the Z of the pooled ratio); NaN if sd = 0."""
        return (self.balanced - self.mean) / self.sd if self.sd > 0 else float("nan")

    @property
    def ratio_mean(self) -> float:
        """Null mean of the pooled balanced ratio (``mean / ffl``); NaN without FFLs."""
        return self.mean / self.ffl if self.ffl else float("nan")

    @property
    def ratio_sd(self) -> float:
        """Null standard deviation of the pooled balanced ratio (``sd / ffl``); NaN without FFLs."""
        return self.sd / self.ffl if self.ffl else float("nan")


def _dense_binary(g: SignedGraph) -> tuple[np.ndarray, np.ndarray]:
    """Return (A, Sg): float64 0/1 adjacency and +-1 sign matrix without the diagonal."""
    n = g.n_nodes
    coo = g.adj.tocoo()
    off = coo.row != coo.col
    a = np.zeros((n, n))
    a[coo.row[off], coo.col[off]] = 1.0
    s = np.zeros((n, n))
    s[coo.row[off], coo.col[off]] = np.sign(coo.data[off])
    return a, s


def sign_shuffle_ffl_moments(g: SignedGraph) -> SignShuffleMoments:
    """Compute the exact mean and variance of the balanced-FFL count under the sign shuffle.

    The null is :func:`~sparsetopo.analysis.sign_shuffle`: signs permuted uniformly over all
    edges of ``g``, self-loops included; nothing is sampled.

    Parameters
    ----------
    g : SignedGraph
        The graph.

    Returns
    -------
    SignShuffleMoments
        Exact moments; ``.z`` is the exact Z of the balanced count and of the pooled ratio.

    Raises
    ------
    InputError
        If ``g`` is not a SignedGraph or has more than 20000 nodes (dense products).

    Notes
    -----
    Distribution: with ``P`` positive and ``Q`` negative edges (``m = P + Q``), every
    assignment of the signs has probability ``1 / C(m, P)``. The product of ``r`` distinct
    edges' signs has expectation (hypergeometric)

        mu_r = sum_j (-1)^j C(P, r - j) C(Q, j) / C(m, r)

    and, with ``F`` FFLs and ``N_k`` ordered pairs of distinct FFLs sharing ``k`` edges, the
    balanced count ``B`` has

        E[B] = F (1 + mu_3) / 2,
        Var[B] = (F (1 - mu_3^2) + sum_k N_k (mu_(6-2k) - mu_3^2)) / 4.

    Derivation in the module docstring. Checked against full enumeration of the sign
    permutations and 1e5-sample Monte Carlo in the unit tests.

    References
    ----------
    .. [1] R. Milo, S. Shen-Orr, S. Itzkovitz, N. Kashtan, D. Chklovskii and U. Alon, "Network
       motifs: simple building blocks of complex networks", Science 298(5594), 824-827 (2002).
       doi:10.1126/science.298.5594.824
    .. [2] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
    >>> g = SignedGraph.from_edges([0, 1, 0, 2], [1, 2, 2, 3], [1.0, -1.0, 1.0, 1.0])
    >>> m = sign_shuffle_ffl_moments(g)
    >>> m.ffl, m.mean, round(m.var, 4)
    (1, 0.25, 0.1875)
    """
    if not isinstance(g, SignedGraph):
        raise InputError(f"expected a SignedGraph (got {type(g).__name__})")
    if g.n_nodes > 20_000:
        raise InputError(f"exact sign-shuffle moments use dense products; {g.n_nodes} nodes is too many")
    a, s = _dense_binary(g)
    p = int((g.adj.data > 0).sum())
    q = int((g.adj.data < 0).sum())
    aa = a @ a
    f = round(float((a * aa).sum()))
    signed = float((s * (s @ s)).sum())
    balanced = round((f + signed) / 2)
    if f == 0:
        return SignShuffleMoments(0, 0, 0.0, 0.0, (0, 0, 0))
    c_e = (a @ a.T + a.T @ a + aa) * a
    sum_c2 = round(float((c_e * (c_e - 1) / 2).sum()))
    mut = a * a.T
    p2 = round(float((mut * (a.T @ a + a @ a.T)).sum())) // 2
    n2 = 2 * p2
    n1 = 2 * (sum_c2 - 2 * p2)
    n0 = f * (f - 1) - n1 - n2
    mu2, mu3, mu4, mu6 = (_mu(p, q, r) for r in (2, 3, 4, 6))
    mu6 = 0.0 if np.isnan(mu6) else mu6  # fewer than 6 edges: no two disjoint FFLs exist
    mu4 = 0.0 if np.isnan(mu4) else mu4
    var_s = f * (1 - mu3**2) + n0 * (mu6 - mu3**2) + n1 * (mu4 - mu3**2) + n2 * (mu2 - mu3**2)
    return SignShuffleMoments(f, balanced, f * (1 + mu3) / 2, var_s / 4, (n0, n1, n2))


# ============================================================================ FFL enumeration
@dataclass(frozen=True)
class FFLTriples:
    """Every FFL (i->j, j->k, i->k) of a graph as edge indices plus triad class.

    Attributes
    ----------
    edges : numpy.ndarray
        ``(F, 3)`` int64 indices of the FFL's edges i->j, j->k, i->k into ``g.adj.data`` (CSR
        order).
    cls : numpy.ndarray
        ``(F,)`` int64 index of each FFL's triad class in
        :data:`~sparsetopo.analysis.balance.ALL_FFL_CLASSES`.
    """

    edges: np.ndarray  # (F, 3) int64
    cls: np.ndarray  # (F,) int64


def ffl_triples(g: SignedGraph) -> FFLTriples:
    """Enumerate the FFLs of ``g`` once (for vectorised sign-shuffle samples).

    Parameters
    ----------
    g : SignedGraph
        The graph; self-loops are ignored.

    Returns
    -------
    FFLTriples
        Every FFL's three edge indices and triad class.
    """
    n = g.n_nodes
    adj = g.adj
    rows = np.repeat(np.arange(n), np.diff(adj.indptr))
    cols = adj.indices.astype(np.int64)
    eidx = np.full((n, n), -1, dtype=np.int64)
    off = rows != cols
    eidx[rows[off], cols[off]] = np.flatnonzero(off)
    present = eidx >= 0
    # for each non-loop edge (i, j) and each out-neighbour k of j (k != i, k != j): need (i, k)
    ei = np.flatnonzero(off)
    i, j = rows[ei], cols[ei]
    outdeg = np.diff(adj.indptr)
    cnt = outdeg[j]
    rep_i = np.repeat(i, cnt)
    rep_j = np.repeat(j, cnt)
    rep_e = np.repeat(ei, cnt)
    offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    e2 = adj.indptr[rep_j] + offs
    k = cols[e2]
    ok = (k != rep_i) & (k != rep_j)
    rep_i, rep_j, rep_e, e2, k = rep_i[ok], rep_j[ok], rep_e[ok], e2[ok], k[ok]
    ok = present[rep_i, k]
    rep_i, rep_j, rep_e, e2, k = rep_i[ok], rep_j[ok], rep_e[ok], e2[ok], k[ok]
    e3 = eidx[rep_i, k]
    # class from the reverse edges j->i, k->j, k->i
    code = (present[rep_j, rep_i].astype(np.int64) + 2 * present[k, rep_j] + 4 * present[k, rep_i])
    # 0: 030T; 1 (i<->j, both -> k): 120U; 2 (j<->k, i -> both): 120D; 4 (i<->k): 120C;
    # two mutual dyads: 210; three: 300
    names = {0: "030T", 1: "120U", 2: "120D", 4: "120C", 3: "210", 5: "210", 6: "210", 7: "300"}
    lut = np.array([ALL_FFL_CLASSES.index(names[c]) for c in range(8)], dtype=np.int64)
    return FFLTriples(np.stack([rep_e, e2, e3], axis=1), lut[code])


# ============================================================================ census keys
@functools.lru_cache(maxsize=1)
def key_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tabulate, per signed-census key, its MAN class and FFL counts.

    Returns
    -------
    cls : numpy.ndarray
        ``(K,)`` index of each key's MAN class in TRIAD_CODES.
    tot, bal : numpy.ndarray
        ``(K, 6)`` FFL total and balanced counts per FFL class, columns in ALL_FFL_CLASSES
        order.
    """
    keys = signed_triad_keys()
    cls = np.array([TRIAD_CODES.index(c) for c, _ in keys], dtype=np.int64)
    tot = np.zeros((len(keys), len(ALL_FFL_CLASSES)), dtype=np.int64)
    bal = np.zeros_like(tot)
    for r, (c, pattern) in enumerate(keys):
        sign = {e: (1 if ch == "+" else -1) for e, ch in zip(TRIAD_EDGE_ORDER[c], pattern, strict=True)}
        if c not in ALL_FFL_CLASSES:
            continue
        col = ALL_FFL_CLASSES.index(c)
        for x, y, z in itertools.permutations(range(3)):
            if (x, y) in sign and (y, z) in sign and (x, z) in sign:
                tot[r, col] += 1
                bal[r, col] += sign[(x, y)] * sign[(y, z)] * sign[(x, z)] > 0
    assert _lookup()[0] == keys
    return cls, tot, bal


def ffl_columns(tot: np.ndarray, bal: np.ndarray) -> dict[str, np.ndarray]:
    """Compute the "ffl_balance" family per sample from per-class FFL counts.

    Parameters
    ----------
    tot, bal : numpy.ndarray
        Per-class FFL totals and balanced counts (samples x 6, ALL_FFL_CLASSES order).

    Returns
    -------
    dict of str to numpy.ndarray
        ``ffl_balance_pooled``, ``ffl_balance_paper`` and ``ffl_unbalanced`` per sample, with
        the same arithmetic as :func:`~sparsetopo.analysis.balance.balance_from_counts`.
    """
    t_all = tot.sum(axis=1)
    b_all = bal.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.where(t_all > 0, b_all / np.where(t_all > 0, t_all, 1), np.nan)
        acc = np.zeros(len(tot))
        k = np.zeros(len(tot), dtype=np.int64)
        for c in PAPER_FFL_CLASSES:
            col = ALL_FFL_CLASSES.index(c)
            t, b = tot[:, col], bal[:, col]
            br = np.where(t > 0, b / np.where(t > 0, t, 1), 0.0)
            use = br != 0
            acc = acc + np.where(use, br, 0.0)
            k += use
        paper = np.where(k > 0, acc / np.where(k > 0, k, 1), np.nan)
    return {"ffl_balance_pooled": pooled, "ffl_balance_paper": paper,
            "ffl_unbalanced": (t_all - b_all).astype(np.float64)}  # fmt: skip


def census_families(families: list[str], counts: np.ndarray) -> dict[str, np.ndarray]:
    """Evaluate census-based motif families on every row of a census matrix.

    Parameters
    ----------
    families : list of str
        Any of "triads", "signed_triads", "ffl_balance".
    counts : numpy.ndarray
        Samples x signed census keys (order of
        :func:`~sparsetopo.analysis.signed_triad_keys`).

    Returns
    -------
    dict of str to numpy.ndarray
        One column per motif, named as :func:`~sparsetopo.analysis.motif_zscores` names them.

    Raises
    ------
    InputError
        If a family has no census form.
    """
    cls, tot_k, bal_k = key_tables()
    keys = signed_triad_keys()
    out: dict[str, np.ndarray] = {}
    for fam in families:
        if fam == "triads":
            onehot = np.zeros((len(keys), len(TRIAD_CODES)), dtype=np.int64)
            onehot[np.arange(len(keys)), cls] = 1
            tri = counts @ onehot
            for i, c in enumerate(TRIAD_CODES):
                out[c] = tri[:, i].astype(np.float64)
        elif fam == "signed_triads":
            for i, (c, s) in enumerate(keys):
                out[f"{c}:{s}"] = counts[:, i].astype(np.float64)
        elif fam == "ffl_balance":
            out.update(ffl_columns(counts @ tot_k, counts @ bal_k))
        else:
            raise InputError(f"family {fam!r} has no census form")
    return out


CENSUS_FAMILIES = ("triads", "signed_triads", "ffl_balance")
