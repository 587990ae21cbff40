"""Simulated annealing towards a target feed-forward-loop (FFL) balance (Zhang et al. 2023).

An FFL is an ordered triple of distinct nodes with edges i->j, j->k and i->k; it is balanced iff
``sign(w_ij) sign(w_jk) sign(w_ik) > 0``. The objective is the pooled balance ratio
``balanced FFLs / all FFLs``.

A move swaps the targets of two edges, ``(a->b), (c->d) -> (a->d), (c->b)``; each edge keeps its
sign, so every node keeps its out-degree, its in-degree and the signs of its outgoing edges. Moves
that would create a self-loop or a duplicate edge are rejected. A worse move is accepted with
probability ``exp(delta / temperature)``, the temperature falling geometrically.

FFL counts are kept incrementally: an edge (u, v) with sign s closes FFLs in three roles
(i->j: common out-neighbours k of u and v; j->k: common in-neighbours i; i->k: middle nodes j with
u->j->v), so removing or adding it changes the counts by dot products of rows and columns of the
signed adjacency matrix, O(n) per edge instead of a full recount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sparsetopo.errors import InputError


class FFLBookkeeper:
    """Signed adjacency (n x n, entries -1/0/+1, no self-loops) with running FFL counts."""

    def __init__(self, n: int, src: np.ndarray, dst: np.ndarray, sign: np.ndarray) -> None:
        self.n = n
        self.adj = np.zeros((n, n), dtype=np.float64)
        if np.any(src == dst):
            raise InputError("the annealer's graph must not contain self-loops")
        self.adj[src, dst] = np.where(sign > 0, 1.0, -1.0)
        if np.count_nonzero(self.adj) != len(src):
            raise InputError("the annealer's graph must not contain duplicate edges")
        self.adj_t = np.ascontiguousarray(self.adj.T)
        self.total, self.balanced = self.count_all()

    def count_all(self) -> tuple[int, int]:
        """Full recount: (all FFLs, balanced FFLs)."""
        a = self.adj
        unsigned = (a != 0).astype(np.float64)
        total = float(((unsigned @ unsigned) * unsigned).sum())
        signed = float(((a @ a) * a).sum())  # sum over FFLs of the sign product
        return round(total), round((total + signed) / 2)

    def edge_terms(self, u: int, v: int, s: float) -> tuple[int, int]:
        """(FFLs through edge u->v with sign s, balanced ones) on the current graph, the edge's
        own entry being irrelevant because the diagonal is empty."""
        a, at = self.adj, self.adj_t
        p1 = a[v] * a[u]  # u->v is i->j; k with v->k and u->k
        p2 = at[u] * at[v]  # u->v is j->k; i with i->u and i->v
        p3 = a[u] * at[v]  # u->v is i->k; j with u->j and j->v
        total = np.count_nonzero(p1) + np.count_nonzero(p2) + np.count_nonzero(p3)
        signed = s * (p1.sum() + p2.sum() + p3.sum())
        return int(total), round((total + signed) / 2)

    def remove(self, u: int, v: int) -> None:
        s = self.adj[u, v]
        tot, bal = self.edge_terms(u, v, s)
        self.total -= tot
        self.balanced -= bal
        self.adj[u, v] = 0.0
        self.adj_t[v, u] = 0.0

    def add(self, u: int, v: int, s: float) -> None:
        tot, bal = self.edge_terms(u, v, s)
        self.total += tot
        self.balanced += bal
        self.adj[u, v] = s
        self.adj_t[v, u] = s

    @property
    def ratio(self) -> float:
        return self.balanced / self.total if self.total else 0.0


@dataclass
class AnnealResult:
    src: np.ndarray
    dst: np.ndarray
    sign: np.ndarray
    ratio: float
    initial_ratio: float
    iterations: int
    accepted: int
    trace: list[float] = field(default_factory=list)


def random_signed_digraph(
    n: int, m: int, rng: np.random.Generator, *, p_positive: float = 0.5, dale: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``m`` distinct directed edges without self-loops at uniformly random positions, signs +1
    with probability ``p_positive`` per edge, or per source node when ``dale`` is set."""
    if not 0 <= m <= n * (n - 1):
        raise InputError(f"cannot place {m} edges on {n} nodes without self-loops")
    off = np.flatnonzero(~np.eye(n, dtype=bool))
    pick = np.sort(rng.choice(off, size=m, replace=False))
    src, dst = np.divmod(pick, n)
    if dale:
        node_sign = np.where(rng.random(n) < p_positive, 1, -1)
        sign = node_sign[src]
    else:
        sign = np.where(rng.random(m) < p_positive, 1, -1)
    return src.astype(np.int64), dst.astype(np.int64), sign.astype(np.int64)


def anneal_balance(
    src: np.ndarray, dst: np.ndarray, sign: np.ndarray, n: int, target: float,
    rng: np.random.Generator, *, max_iters: int | None = None, t_start: float = 1e-3,
    t_end: float = 1e-6,
) -> AnnealResult:
    """Swap edge targets until the pooled FFL balance reaches ``target`` (or ``max_iters``
    proposals, default 200 per edge). Returns the new edge list (same order and signs)."""
    src = np.asarray(src, dtype=np.int64).copy()
    dst = np.asarray(dst, dtype=np.int64).copy()
    sign = np.asarray(sign, dtype=np.int64).copy()
    m = len(src)
    book = FFLBookkeeper(n, src, dst, sign)
    initial = book.ratio
    iters = max_iters if max_iters is not None else 200 * max(m, 1)
    accepted = 0
    trace = [initial]
    if m < 2 or iters <= 0:
        return AnnealResult(src, dst, sign, initial, initial, 0, 0, trace)
    decay = (t_end / t_start) ** (1.0 / iters)
    temp = t_start
    it = 0
    for it in range(1, iters + 1):
        if book.ratio >= target:
            it -= 1
            break
        temp *= decay
        e1, e2 = rng.integers(0, m, size=2)
        a, b, c, d = src[e1], dst[e1], src[e2], dst[e2]
        if e1 == e2 or a in (c, d) or b in (d, c):
            continue
        if book.adj[a, d] != 0 or book.adj[c, b] != 0:
            continue
        before_ratio, before = book.ratio, (book.total, book.balanced)
        s1, s2 = float(sign[e1]), float(sign[e2])
        book.remove(a, b)
        book.remove(c, d)
        book.add(a, d, s1)
        book.add(c, b, s2)
        delta = book.ratio - before_ratio
        if delta >= 0 or rng.random() < math.exp(delta / temp):
            dst[e1], dst[e2] = d, b
            accepted += 1
        else:  # undo: restore the entries and the counts saved before the move
            book.adj[a, d] = book.adj[c, b] = 0.0
            book.adj_t[d, a] = book.adj_t[b, c] = 0.0
            book.adj[a, b], book.adj[c, d] = s1, s2
            book.adj_t[b, a], book.adj_t[d, c] = s1, s2
            book.total, book.balanced = before
        if it % 1000 == 0:
            trace.append(book.ratio)
    trace.append(book.ratio)
    return AnnealResult(src, dst, sign, book.ratio, initial, it, accepted, trace)
