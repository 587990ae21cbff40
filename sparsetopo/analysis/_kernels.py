"""Compiled (numba) Markov-chain kernels behind :mod:`sparsetopo.analysis.nulls`.

Every chain here is a Metropolis chain with a symmetric proposal: a move is proposed with the same
probability from a graph ``G`` to ``G'`` as from ``G'`` back to ``G``, and a proposal that would
leave the state space (multi-edge, self-loop, changed mutual-dyad count, uncovered live neuron) is
rejected, the chain staying where it is. The stationary distribution is therefore uniform over the
states the moves connect; the unit tests enumerate small state spaces to check that the moves
connect all of them.

Directed state: named tuples of arrays (numba types them field by field; their docstrings give
each field's shape and dtype), built by :class:`sparsetopo.analysis.nulls.DirectedChain`:
:class:`GraphState` (a dense ``int8`` matrix ``S``, 0 = no edge, 1 = positive, 2 = negative, and
the movable, non-self-loop edges as ``src``/``dst`` arrays: an edge keeps its source and its sign,
so a source keeps the multiset of its out-weights), :class:`CensusState` (when the triad census is
tracked: the undirected neighbour lists and the census over the signed (class, pattern) keys of
:func:`sparsetopo.analysis.triads.signed_triad_keys`), :class:`ComplementState` (the complement's
edges, over which a dense graph proposes its moves) and :class:`TiltState` (the mutual-dyad tilt
of keep_mutual). Toggling the dyad (u, v) changes only the triads {u, v, w}; those with ``w``
adjacent to neither ``u`` nor ``v`` change in bulk, the others are visited through the neighbour
lists, so one edge change costs O(deg u + deg v).

Each move is written once: :func:`_swap` and :func:`_triangle` draw from a *moving set* of
edges, the graph's or its complement's, and apply the equivalent change to the graph (a swap of
two complement edges is a swap of two graph edges, a reversed complement triangle a reversed
graph triangle). :func:`directed_moves` compiles the loop twice, once per moving set, so the
choice costs nothing per proposal.

Every kernel that calls another lives in this module: numba caches a compiled kernel together
with the code of the kernels it calls but checks only its own file for changes, so a callee in
another module could be served stale from the cache after an edit.

The random numbers come from an inline xoshiro256** generator whose state (four uint64 words, see
:func:`rng_state`) is drawn from the caller's numpy Generator and passed in, so a seeded call is
reproducible. numba's own ``np.random.randint`` costs about 15 ns a call, most of a rejected
proposal; this one costs about 2.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from sparsetopo.analysis._jit import cached_njit


def rng_state(rng: np.random.Generator) -> np.ndarray:
    """Return a fresh xoshiro256** state (4 uint64 words, not all zero) drawn from ``rng``."""
    while True:
        rs = rng.integers(0, 2**64, size=4, dtype=np.uint64)
        if rs.any():
            return rs


@njit(inline="always")
def _rotl(x, k):  # type: ignore[no-untyped-def]
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(inline="always")
def _next(rs):  # type: ignore[no-untyped-def]
    """xoshiro256** (Blackman and Vigna 2018): the next 64 random bits; advances ``rs``."""
    s0 = rs[0]
    s1 = rs[1]
    s2 = rs[2]
    s3 = rs[3]
    out = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    rs[0] = s0
    rs[1] = s1
    rs[2] = s2
    rs[3] = s3
    return out


@njit(inline="always")
def _uniform(rs):  # type: ignore[no-untyped-def]
    """Return a float in [0, 1) with 53 random bits."""
    return np.float64(_next(rs) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always")
def _below(rs, m):  # type: ignore[no-untyped-def]
    """Return an integer uniform on [0, m) (bias below m / 2**53)."""
    k = np.int64(_uniform(rs) * m)
    return k if k < m else m - 1


# ============================================================================ directed graphs
class GraphState(NamedTuple):
    """The directed chain's graph: ``n`` nodes, ``m`` movable edges (self-loops are kept aside).

    An edge is a label ``e`` in ``range(m)`` that keeps its source and its sign for ever; the
    moves change only its target.

    Attributes
    ----------
    S : ndarray of int8, shape (n, n)
        Dense state: ``S[u, v]`` is 0 (no edge u->v), 1 (positive) or 2 (negative); the diagonal
        stays 0.
    src : ndarray of int64, shape (m,)
        Source of each edge, sorted.
    dst : ndarray of int64, shape (m,)
        Target of each edge (moved by the chain).
    outptr : ndarray of int64, shape (n + 1,)
        The edges of source u are the labels ``outptr[u]:outptr[u + 1]``.
    outidx : ndarray of int64, shape (m,)
        Edge labels in ``outptr`` order (the identity, edges being sorted by source).
    sgn : ndarray of int64, shape (m,)
        Sign of each edge: 1 positive, 2 negative.
    indeg0 : ndarray of int64, shape (n,)
        In-degrees of the start graph (checked on every sample).
    """

    S: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    outptr: np.ndarray
    outidx: np.ndarray
    sgn: np.ndarray
    indeg0: np.ndarray


class CensusState(NamedTuple):
    """The signed triad census kept up to date move by move (used when ``track`` is on).

    Attributes
    ----------
    nbptr : ndarray of int64, shape (n + 1,)
        Node u's undirected neighbours live in ``nb[nbptr[u]:nbptr[u] + nblen[u]]``; the
        capacity ``nbptr[u + 1] - nbptr[u]`` is u's out- plus in-degree.
    nblen : ndarray of int64, shape (n,)
        Number of neighbours of each node.
    nb : ndarray of int64, shape (max(nbptr[-1], 1),)
        The neighbour lists, unordered within a node.
    cnt : ndarray of int64, shape (K,)
        The census: count of each signed (class, pattern) key of
        :func:`sparsetopo.analysis.triads.signed_triad_keys` (K keys).
    tab : ndarray of int64, shape (729,)
        Key index of a triad's six dyad states ``sum 3**i * state_i`` (``triads._lookup``).
    """

    nbptr: np.ndarray
    nblen: np.ndarray
    nb: np.ndarray
    cnt: np.ndarray
    tab: np.ndarray


class ComplementState(NamedTuple):
    """The complement's edges, over which a dense graph's chain proposes its moves.

    A chain that does not use the complement passes placeholders (EI of shape (1, 1), the
    others of length 1), never read.

    Attributes
    ----------
    EI : ndarray of int64, shape (n, n)
        ``EI[u, v]``: label of the graph's edge u->v, -1 if there is none.
    csrc : ndarray of int64, shape (m',)
        Sources of the complement's m' edges (the non-edges u->v, u != v), sorted, fixed.
    cdst : ndarray of int64, shape (m',)
        Targets of the complement's edges (moved by the chain).
    coutptr : ndarray of int64, shape (n + 1,)
        The complement's edges of source u are ``coutptr[u]:coutptr[u + 1]``.
    coutidx : ndarray of int64, shape (m',)
        Complement edge labels in ``coutptr`` order (the identity).
    """

    EI: np.ndarray
    csrc: np.ndarray
    cdst: np.ndarray
    coutptr: np.ndarray
    coutidx: np.ndarray


class TiltState(NamedTuple):
    """The mutual-dyad tilt of a keep_mutual chain (see :func:`directed_moves`).

    Attributes
    ----------
    beta : ndarray of float64, shape (2,)
        Tilt above (``beta[0]``) and below (``beta[1]``) the start's mutual-dyad count.
    dstate : ndarray of int64, shape (1,)
        ``D``: mutual dyads of the current graph minus those of the start.
    hist : ndarray of int64, shape (7,)
        ``hist[D + 3]``: proposals made in a state with |D| <= 3 (to tune beta).
    """

    beta: np.ndarray
    dstate: np.ndarray
    hist: np.ndarray


@cached_njit
def _nb_remove(nbptr, nblen, nb, u, v):  # type: ignore[no-untyped-def]
    start = nbptr[u]
    last = start + nblen[u] - 1
    for k in range(start, last + 1):
        if nb[k] == v:
            nb[k] = nb[last]
            nblen[u] -= 1
            return


@cached_njit
def _toggle(S, nbptr, nblen, nb, cnt, tab, track, u, v, val):  # type: ignore[no-untyped-def]
    """Set S[u, v] = val; if track, also update the neighbour lists and the signed census.

    The census arrays are those of a :class:`CensusState` (passed one by one: the moves call
    this in their inner loop, where a tuple would cost reference counting).
    """
    old = np.int64(S[u, v])
    if old == val:
        return
    rev = np.int64(S[v, u])
    if track:
        n = S.shape[0]
        b_old = old + 3 * rev
        b_new = val + 3 * rev
        seen = 0
        for k in range(nbptr[u], nbptr[u] + nblen[u]):
            w = nb[k]
            if w == v:
                continue
            rest = (9 * np.int64(S[u, w]) + 27 * np.int64(S[w, u]) + 81 * np.int64(S[v, w])
                    + 243 * np.int64(S[w, v]))  # fmt: skip
            cnt[tab[b_old + rest]] -= 1
            cnt[tab[b_new + rest]] += 1
            seen += 1
        for k in range(nbptr[v], nbptr[v] + nblen[v]):
            w = nb[k]
            if w == u or S[u, w] != 0 or S[w, u] != 0:
                continue
            rest = 81 * np.int64(S[v, w]) + 243 * np.int64(S[w, v])
            cnt[tab[b_old + rest]] -= 1
            cnt[tab[b_new + rest]] += 1
            seen += 1
        free = n - 2 - seen
        cnt[tab[b_old]] -= free
        cnt[tab[b_new]] += free
    S[u, v] = val
    if not track:
        return  # neighbour lists are only needed (and rebuilt) for tracking
    was = old != 0 or rev != 0
    now = val != 0 or rev != 0
    if was and not now:
        _nb_remove(nbptr, nblen, nb, u, v)
        _nb_remove(nbptr, nblen, nb, v, u)
    elif now and not was:
        nb[nbptr[u] + nblen[u]] = v
        nblen[u] += 1
        nb[nbptr[v] + nblen[v]] = u
        nblen[v] += 1


@cached_njit
def rebuild_neighbours(S, cs):  # type: ignore[no-untyped-def]
    """Undirected neighbour lists of ``cs`` (a CensusState) from S (census tracking turned on)."""
    n = S.shape[0]
    for u in range(n):
        k = 0
        for w in range(n):
            if w != u and (S[u, w] != 0 or S[w, u] != 0):
                cs.nb[cs.nbptr[u] + k] = w
                k += 1
        cs.nblen[u] = k


@cached_njit
def directed_init(g, cs, track):  # type: ignore[no-untyped-def]
    """Insert the edges of ``g`` (a GraphState) one by one into its empty S (census: all 003)."""
    nbptr, nblen, nb, cnt, tab = cs
    for e in range(len(g.src)):
        _toggle(g.S, nbptr, nblen, nb, cnt, tab, track, g.src[e], g.dst[e], np.int64(g.sgn[e]))


@cached_njit
def _find_edge(outptr, outidx, dst, a, b):  # type: ignore[no-untyped-def]
    for k in range(outptr[a], outptr[a + 1]):
        e = outidx[k]
        if dst[e] == b:
            return e
    return -1


@njit(inline="always")
def _tilt_accepts(D, delta, beta, rs):  # type: ignore[no-untyped-def]
    """Metropolis acceptance of a move changing the mutual-dyad offset D by delta (tilted target)."""
    d_new = D + delta
    pen_old = beta[0] * D if D > 0 else -beta[1] * D
    pen_new = beta[0] * d_new if d_new > 0 else -beta[1] * d_new
    return not (pen_new > pen_old and _uniform(rs) >= np.exp(pen_old - pen_new))


@njit(inline="always")
def _run_moves(g, cs, cx, tilt, track, keep_mutual, complement, p_tri, n_moves, rs):  # type: ignore[no-untyped-def]  # fmt: skip
    """Run the loop of :func:`directed_moves`; each move is written once, for either moving set.

    The moving set is the graph's edges or, with ``complement``, the complement's; a move picks
    its edges there and changes the graph by the equivalent move on the graph's own edges.
    (The moves are written into the loop rather than called: an inlined helper per proposal
    costs reference counting of its array arguments, about the time of a rejected proposal.)
    """
    if complement:
        msrc = cx.csrc
        mdst = cx.cdst
        mptr = cx.coutptr
        midx = cx.coutidx
    else:
        msrc = g.src
        mdst = g.dst
        mptr = g.outptr
        midx = g.outidx
    mc = len(msrc)
    if mc < 2:
        return 0
    S = g.S
    n = S.shape[0]
    dst = g.dst
    EI = cx.EI
    nbptr, nblen, nb, cnt, tab = cs
    beta = tilt.beta
    hist = tilt.hist
    inside = not complement  # S[u, v] != 0 == inside: u->v is in the moving set
    acc = 0
    D = tilt.dstate[0]
    for _ in range(n_moves):
        if keep_mutual and -3 <= D <= 3:
            hist[D + 3] += 1
        if _uniform(rs) < p_tri:
            # triangle reversal: a->b of the moving set and a node c uniformly; accepted iff
            # b->c, c->a are in the moving set and none of b->a, c->b, a->c is. On the graph it
            # reverses the 3-cycle x->y->z->x: (a, b, c), or for the complement (a, c, b).
            i = _below(rs, mc)
            c = _below(rs, n)
            a = msrc[i]
            b = mdst[i]
            if c == a or c == b:  # noqa: SIM109
                continue
            if ((S[b, c] != 0) != inside or (S[c, a] != 0) != inside or (S[b, a] != 0) == inside
                    or (S[c, b] != 0) == inside or (S[a, c] != 0) == inside):  # fmt: skip
                continue
            j = _find_edge(mptr, midx, mdst, b, c)
            k = _find_edge(mptr, midx, mdst, c, a)
            x = a
            y = c if complement else b
            z = b if complement else c
            e_xy = e_yz = e_zx = -1
            if complement:
                e_xy = EI[x, y]
                e_yz = EI[y, z]
                e_zx = EI[z, x]
            s_xy = np.int64(S[x, y])
            s_yz = np.int64(S[y, z])
            s_zx = np.int64(S[z, x])
            if track:  # the census follows (a plain write is ~5x cheaper otherwise)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, x, y, 0)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, y, z, 0)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, z, x, 0)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, x, z, s_xy)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, y, x, s_yz)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, z, y, s_zx)
            else:
                S[x, y] = 0
                S[y, z] = 0
                S[z, x] = 0
                S[x, z] = s_xy
                S[y, x] = s_yz
                S[z, y] = s_zx
            mdst[i] = c
            mdst[j] = a
            mdst[k] = b
            if complement:  # the graph's own edges follow through the edge index
                dst[e_xy] = z
                dst[e_yz] = x
                dst[e_zx] = y
                EI[x, y] = -1
                EI[y, z] = -1
                EI[z, x] = -1
                EI[x, z] = e_xy
                EI[y, x] = e_yz
                EI[z, y] = e_zx
            acc += 1
            continue
        # double-edge swap: distinct a->b, c->d of the moving set uniformly, replaced by a->d,
        # c->b iff a, b, c, d are distinct and a->d, c->b are not in the moving set. On the
        # graph it replaces p->q, r->s by p->s, r->q: (a, b, c, d), or for the complement
        # (a, d, c, b) (the graph's a->d, c->b become a->b, c->d).
        i = _below(rs, mc)
        j = _below(rs, mc)
        if i == j:
            continue
        a = msrc[i]
        b = mdst[i]
        c = msrc[j]
        d = mdst[j]
        if a == c or b == d or a == d or c == b:  # noqa: SIM109
            continue
        if (S[a, d] != 0) == inside or (S[c, b] != 0) == inside:
            continue
        q = d if complement else b
        s = b if complement else d
        if keep_mutual:
            delta = 0
            if S[s, a] != 0:
                delta += 1
            if S[q, c] != 0:
                delta += 1
            if S[q, a] != 0:
                delta -= 1
            if S[s, c] != 0:
                delta -= 1
            if delta != 0:
                if not _tilt_accepts(D, delta, beta, rs):
                    continue
                D += delta
        e_pq = e_rs = -1
        if complement:
            e_pq = EI[a, q]
            e_rs = EI[c, s]
        s_pq = np.int64(S[a, q])
        s_rs = np.int64(S[c, s])
        if track:  # the census follows (a plain write is ~5x cheaper otherwise)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, q, 0)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, s, 0)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, s, s_pq)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, q, s_rs)
        else:
            S[a, q] = 0
            S[c, s] = 0
            S[a, s] = s_pq
            S[c, q] = s_rs
        mdst[i] = d
        mdst[j] = b
        if complement:  # the graph's own edges follow through the edge index
            dst[e_pq] = s
            dst[e_rs] = q
            EI[a, q] = -1
            EI[c, s] = -1
            EI[a, s] = e_pq
            EI[c, q] = e_rs
        acc += 1
    tilt.dstate[0] = D
    return acc


@cached_njit
def directed_moves(g, cs, cx, tilt, track, keep_mutual, complement, p_tri, n_moves, rs):  # type: ignore[no-untyped-def]  # fmt: skip
    """Propose ``n_moves`` moves of the directed chain; returns the number accepted.

    ``g``: GraphState; ``cs``: CensusState, kept up to date iff ``track``; ``cx``:
    ComplementState, whose edges are the moving set instead of the graph's iff ``complement``;
    ``tilt``: TiltState; ``rs``: the xoshiro256** state (:func:`rng_state`).

    With probability ``p_tri`` a directed-triangle reversal: an edge a->b uniformly and a node c
    uniformly; accepted iff b->c and c->a exist and none of b->a, c->b, a->c does (the reversed
    triangle would otherwise create a multi-edge). Otherwise a double-edge swap: an ordered pair
    of distinct edges (a->b, c->d) uniformly, replaced by (a->d, c->b) iff a, b, c, d are
    distinct, a->d and c->b are absent. With ``complement`` "edge" means the complement's edge
    (a swap of the complement's edges is a swap of the graph's, a reversed triangle of the
    complement a reversed triangle of the graph). Both proposals are symmetric (the reverse
    move has the same probability; the complement's edge count is invariant too), so without
    keep_mutual the chain is reversible with respect to the uniform distribution. Drawing the
    proposals from the complement's m' edges gives the same moves and the same stationary
    distribution; a graph denser than half the pairs has m' < m, hence fewer, more often
    accepted proposals. Each edge keeps its source and its sign.

    keep_mutual: the chain runs on the whole degree-preserving space (which the moves connect)
    with the tilted target pi(G) ~ exp(-beta[0] D) for D > 0 and exp(beta[1] D) for D < 0, D =
    mutual dyads of G minus those of the start (``tilt.dstate[0]``); a swap changing D is
    accepted with the Metropolis probability. pi is constant on D = 0, so the states with D = 0
    are uniform there; the caller keeps only those. ``tilt.hist[D + 3]`` counts the proposals
    made in each state with |D| <= 3 (to tune beta).
    """
    # two inlined copies of the one loop, each compiled with ``complement`` a constant
    if complement:
        return _run_moves(g, cs, cx, tilt, track, keep_mutual, True, p_tri, n_moves, rs)
    return _run_moves(g, cs, cx, tilt, track, keep_mutual, False, p_tri, n_moves, rs)


@cached_njit
def shuffle_out_weights(g, cs, cx, track, complement, rs):  # type: ignore[no-untyped-def]
    """Assign every source's out-weights to its out-edges by a fresh uniform bijection.

    The edges of source u are the labels ``g.outptr[u]:g.outptr[u + 1]`` (each label keeps its
    weight, sign ``g.sgn``); their targets are permuted (Fisher-Yates) and S, the tracked census
    and (``complement``) the complement's edge index follow. Moves alone cannot do this where a
    source's out-edges are (nearly) fixed, e.g. a source linked to every other node.
    """
    S = g.S
    dst = g.dst
    outptr = g.outptr
    sgn = g.sgn
    ei = cx.EI
    nbptr, nblen, nb, cnt, tab = cs
    for u in range(len(outptr) - 1):
        lo = outptr[u]
        for k in range(outptr[u + 1] - 1, lo, -1):
            r = lo + _below(rs, k - lo + 1)
            t = dst[k]
            dst[k] = dst[r]
            dst[r] = t
        for e in range(lo, outptr[u + 1]):
            v = dst[e]
            if track:  # the signed census follows every changed sign
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, u, v, np.int64(sgn[e]))
            else:
                S[u, v] = sgn[e]
            if complement:
                ei[u, v] = e


@cached_njit
def invariants_hold(g, indeg, keep_mutual, mutual0):  # type: ignore[no-untyped-def]
    """Whether the in-degrees (and, with keep_mutual, the mutual-dyad count) are the start's."""
    S = g.S
    src = g.src
    dst = g.dst
    indeg[:] = 0
    mut = 0
    for e in range(len(src)):
        indeg[dst[e]] += 1
        if S[dst[e], src[e]] != 0:
            mut += 1
    for x in range(len(indeg)):
        if indeg[x] != g.indeg0[x]:
            return False
    return not (keep_mutual and mut != mutual0)


# ============================================================================ bitset census
# A triad census and the signed FFL sums per sample (the switching null's default families):
# only the seven closed classes need the third node; each is a popcount of one endpoint's
# out-set against the other's in-set per directed edge, split into asymmetric and mutual dyads;
# the signed sums are the same popcounts split by sign (2 |agreeing| - |all|); the nine open
# classes follow from the degrees. O(m n / 64) word operations per sample.
#
# Bitset planes ``B[x, k]`` (``W`` 64-bit words per node), for a node x and a third node c:
# k = 0, 1: x -> c asymmetric, positive / negative; 2, 3: c -> x asymmetric, + / -;
# 4, 5: x -> c mutual, sign of x -> c + / -; 6, 7: c -> x mutual, sign of c -> x + / -.
#
#: Row layout of :func:`census_row`: the 16 classes in TRIAD_CODES order, then the signed FFL
#: sums in ALL_FFL_CLASSES order ("030T", "120U", "120D", "120C", "210", "300").
ROW = 22


@intrinsic
def _ctpop(typingctx, x):  # type: ignore[no-untyped-def]
    """LLVM's ctpop on a uint64 (numba has no public popcount)."""
    if not isinstance(x, types.Integer):
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])

    return sig, codegen


_popcount: Any = _ctpop  # typed for mypy: an intrinsic is called with the operand only


def words(n: int) -> int:
    """Return the number of 64-bit words of a bitset over ``n`` nodes."""
    return max(1, (n + 63) // 64)


@cached_njit
def _fill(S, src, dst, B):  # type: ignore[no-untyped-def]
    B[:] = 0
    one = np.uint64(1)
    for e in range(len(src)):
        a = src[e]
        b = dst[e]
        k = 0 if S[a, b] == 1 else 1
        if S[b, a] != 0:
            k += 4
        B[a, k, b >> 6] |= one << np.uint64(b & 63)
        B[b, k + 2, a >> 6] |= one << np.uint64(a & 63)


@cached_njit
def census_row(S, src, dst, B, out):  # type: ignore[no-untyped-def]
    """Write the triad census and the signed FFL sums of the graph into ``out`` (length ROW).

    S: dense int8 state (0 none, 1 positive, 2 negative; no diagonal); src/dst: its edges, each
    once; B: scratch planes of shape (n, 8, W).
    """
    n = S.shape[0]
    W = B.shape[2]
    _fill(S, src, dst, B)
    dout = np.zeros(n, dtype=np.int64)
    din = np.zeros(n, dtype=np.int64)
    dm = np.zeros(n, dtype=np.int64)
    t030t = t030c = t120c = t120d = t120u = t210 = t300 = 0
    s030t = s120u = s120d = s120c = s210 = s300 = 0
    for e in range(len(src)):
        a = src[e]
        b = dst[e]
        sg = 1 if S[a, b] == 1 else -1
        mutual = S[b, a] != 0
        # |X & Y| and the agreeing part for X in {O, Mo} of a, Y in {I, Mi} of b
        c_oi = g_oi = c_om = g_om = c_mi = g_mi = c_mm = g_mm = c_rev = 0
        for i in range(W):
            op = B[a, 0, i]
            on = B[a, 1, i]
            mop = B[a, 4, i]
            mon = B[a, 5, i]
            ip = B[b, 2, i]
            inn = B[b, 3, i]
            mip = B[b, 6, i]
            min_ = B[b, 7, i]
            o = op | on
            mo = mop | mon
            ii = ip | inn
            mi = mip | min_
            c_oi += _popcount(o & ii)
            g_oi += _popcount((op & ip) | (on & inn))
            c_om += _popcount(o & mi)
            g_om += _popcount((op & mip) | (on & min_))
            c_mi += _popcount(mo & ii)
            g_mi += _popcount((mop & ip) | (mon & inn))
            c_mm += _popcount(mo & mi)
            g_mm += _popcount((mop & mip) | (mon & min_))
            if not mutual:
                c_rev += _popcount((B[b, 0, i] | B[b, 1, i]) & (B[a, 2, i] | B[a, 3, i]))
        c_oi = np.int64(c_oi)
        c_om = np.int64(c_om)
        c_mi = np.int64(c_mi)
        c_mm = np.int64(c_mm)
        s_oi = 2 * np.int64(g_oi) - c_oi
        s_om = 2 * np.int64(g_om) - c_om
        s_mi = 2 * np.int64(g_mi) - c_mi
        s_mm = 2 * np.int64(g_mm) - c_mm
        if mutual:  # each mutual dyad is visited once per direction
            dm[a] += 1
            t120c += c_oi
            s120c += sg * s_oi
            s210 += sg * (s_om + s_mi)
            t300 += c_mm
            s300 += sg * s_mm
        else:
            dout[a] += 1
            din[b] += 1
            t030t += c_oi
            s030t += sg * s_oi
            t030c += np.int64(c_rev)
            t120d += c_om
            s120d += sg * s_om
            t120u += c_mi
            s120u += sg * s_mi
            t210 += c_mm
            s210 += sg * s_mm
    # each closed triad is seen from every edge that closes it in the same role
    t030c //= 3
    t120d //= 2
    t120u //= 2
    t300 //= 6
    m_a = 0
    m_m2 = 0
    dd_a = 0
    dd_m = 0
    c2o = c2i = c2m = 0
    io = mi = mo = 0
    for x in range(n):
        d = dout[x] + din[x] + dm[x]
        m_a += dout[x]
        m_m2 += dm[x]
        dd_a += d * (dout[x] + din[x])
        dd_m += d * dm[x]
        c2o += dout[x] * (dout[x] - 1) // 2
        c2i += din[x] * (din[x] - 1) // 2
        c2m += dm[x] * (dm[x] - 1) // 2
        io += din[x] * dout[x]
        mi += dm[x] * din[x]
        mo += dm[x] * dout[x]
    m_m = m_m2 // 2
    closed3 = t120d + t120u + t120c
    out[1] = m_a * n - dd_a + 3 * (t030t + t030c) + 2 * closed3 + t210  # 012
    out[2] = m_m * n - dd_m + closed3 + 2 * t210 + 3 * t300  # 102
    out[3] = c2o - t030t - t120d  # 021D
    out[4] = c2i - t030t - t120u  # 021U
    out[5] = io - t030t - 3 * t030c - t120c  # 021C
    out[6] = mi - 2 * t120d - t120c - t210  # 111D
    out[7] = mo - 2 * t120u - t120c - t210  # 111U
    out[8] = t030t
    out[9] = t030c
    out[10] = c2m - t210 - 3 * t300  # 201
    out[11] = t120d
    out[12] = t120u
    out[13] = t120c
    out[14] = t210
    out[15] = t300
    rest = 0
    for k in range(1, 16):
        rest += out[k]
    out[0] = n * (n - 1) * (n - 2) // 6 - rest
    out[16] = s030t
    out[17] = s120u
    out[18] = s120d
    out[19] = s120c
    out[20] = s210
    out[21] = s300


@cached_njit
def census_samples(g, cs, cx, tilt, keep_mutual, complement, p_tri, n_thin, mutual0, bits, B,
                   out, rs):  # type: ignore[no-untyped-def]  # fmt: skip
    """Run the directed chain and write one census row per sample into ``out`` (one per row).

    Rows are taken every ``n_thin`` proposals (:func:`directed_moves`) at the grid times where
    D = 0 (always, without keep_mutual), after :func:`shuffle_out_weights`; every sample's
    in-degrees and mutual-dyad count are checked. ``bits``: the chain runs untracked and each
    row is a :func:`census_row` (``B``: its scratch planes, shape (n, 8, W), and ``out`` has
    ROW columns); otherwise the chain tracks ``cs`` and each row is ``cs.cnt`` (``B`` is not
    read). The chain, its random stream and the sample times are the same either way. Returns
    -1 when all checks pass, else the index of the first failing sample.
    """
    n = g.S.shape[0]
    indeg = np.zeros(n, dtype=np.int64)
    if keep_mutual and n_thin < 1 and tilt.dstate[0] != 0:
        n_thin = 1  # no moves could never reach D = 0
    track = not bits
    s = 0
    while s < out.shape[0]:
        directed_moves(g, cs, cx, tilt, track, keep_mutual, complement, p_tri, n_thin, rs)
        if keep_mutual and tilt.dstate[0] != 0:
            continue
        if not invariants_hold(g, indeg, keep_mutual, mutual0):
            return s
        shuffle_out_weights(g, cs, cx, track, complement, rs)
        if bits:
            census_row(g.S, g.src, g.dst, B, out[s])
        else:
            out[s, :] = cs.cnt
        s += 1
    return -1


# ============================================================================ bipartite layers
@njit(inline="always")
def _swap_once(M, src, dst, m, rs):  # type: ignore[no-untyped-def]
    """One double-edge swap proposal on a bipartite layer; return 1 if accepted, else 0."""
    i = _below(rs, m)
    j = _below(rs, m)
    if i == j:
        return 0
    a = src[i]
    b = dst[i]
    c = src[j]
    d = dst[j]
    if a == c or b == d or M[a, d] != 0 or M[c, b] != 0:
        return 0
    M[a, b] = 0
    M[c, d] = 0
    M[a, d] = 1
    M[c, b] = 1
    dst[i] = d
    dst[j] = b
    return 1


@cached_njit
def bipartite_swaps(M, src, dst, n_moves, rs):  # type: ignore[no-untyped-def]
    """Propose ``n_moves`` double-edge swaps on a bipartite layer; return the accepted count.

    M[i, j] = 1 iff edge i->j. An ordered pair of distinct edges is drawn uniformly;
    (a->b, c->d) -> (a->d, c->b) iff a != c, b != d and both new edges are absent. Symmetric proposal; degrees of every source and target kept.
    """
    m = len(src)
    acc = 0
    if m < 2:
        return 0
    for _ in range(n_moves):
        acc += _swap_once(M, src, dst, m, rs)
    return acc


@cached_njit
def zahn_moves(M, src, dst, outdeg, indeg, s_live, t_live, n_moves, rs):  # type: ignore[no-untyped-def]
    """Propose ``n_moves`` moves of the chain on the Zahn et al. 2024 layer space.

    The space: edge sets of fixed size between the live sources and live targets covering
    every one of them. Each proposal is with probability 1/2 a double-edge swap (as
    :func:`bipartite_swaps`) and otherwise a relocation: an edge uniformly and a live
    (source, target) pair uniformly; the edge moves there iff the pair is empty and its old
    source and target keep at least one edge. Both proposals are symmetric. Return the
    accepted count.
    """
    m = len(src)
    ns = len(s_live)
    nt = len(t_live)
    acc = 0
    if m < 1:
        return 0
    for _ in range(n_moves):
        if _uniform(rs) < 0.5:
            if m >= 2:
                acc += _swap_once(M, src, dst, m, rs)
            continue
        i = _below(rs, m)
        c = s_live[_below(rs, ns)]
        d = t_live[_below(rs, nt)]
        a = src[i]
        b = dst[i]
        if M[c, d] != 0:
            continue
        if (c != a and outdeg[a] < 2) or (d != b and indeg[b] < 2):
            continue
        M[a, b] = 0
        M[c, d] = 1
        outdeg[a] -= 1
        indeg[b] -= 1
        outdeg[c] += 1
        indeg[d] += 1
        src[i] = c
        dst[i] = d
        acc += 1
    return acc
