"""Compiled (numba) Markov-chain kernels behind :mod:`sparsetopo.analysis.nulls`.

Every chain here is a Metropolis chain with a symmetric proposal: a move is proposed with the same
probability from a graph ``G`` to ``G'`` as from ``G'`` back to ``G``, and a proposal that would
leave the state space (multi-edge, self-loop, changed mutual-dyad count, uncovered live neuron) is
rejected, the chain staying where it is. The stationary distribution is therefore uniform over the
states the moves connect; the unit tests enumerate small state spaces to check that the moves
connect all of them.

Directed state: a dense ``int8`` matrix ``S`` (0 = no edge, 1 = positive, 2 = negative), the
movable (non-self-loop) edges as ``src``/``dst`` arrays (an edge keeps its source and its sign, so
a source keeps the multiset of its out-weights), and, when the triad census is tracked, the
undirected neighbour lists and the census over the signed (class, pattern) keys of
:func:`sparsetopo.analysis.triads.signed_triad_keys`. Toggling the dyad (u, v) changes only the
triads {u, v, w}; those with ``w`` adjacent to neither ``u`` nor ``v`` change in bulk, the others
are visited through the neighbour lists, so one edge change costs O(deg u + deg v).

Every kernel that calls another lives in this module: numba caches a compiled kernel together
with the code of the kernels it calls but checks only its own file for changes, so a callee in
another module could be served stale from the cache after an edit.

The random numbers come from an inline xoshiro256** generator whose state (four uint64 words, see
:func:`rng_state`) is drawn from the caller's numpy Generator and passed in, so a seeded call is
reproducible. numba's own ``np.random.randint`` costs about 15 ns a call, most of a rejected
proposal; this one costs about 2.
"""

from __future__ import annotations

from typing import Any

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
    """Set S[u, v] = val; if track, also update the neighbour lists and the signed census."""
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
def rebuild_neighbours(S, nbptr, nblen, nb):  # type: ignore[no-untyped-def]
    """Undirected neighbour lists from S (for switching census tracking on)."""
    n = S.shape[0]
    for u in range(n):
        k = 0
        for w in range(n):
            if w != u and (S[u, w] != 0 or S[w, u] != 0):
                nb[nbptr[u] + k] = w
                k += 1
        nblen[u] = k


@cached_njit
def directed_init(S, nbptr, nblen, nb, cnt, tab, track, src, dst, sgn):  # type: ignore[no-untyped-def]
    """Insert the edges one by one into an empty state (census starts as all-003)."""
    for e in range(len(src)):
        _toggle(S, nbptr, nblen, nb, cnt, tab, track, src[e], dst[e], np.int64(sgn[e]))


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


@cached_njit
def complement_moves(S, nbptr, nblen, nb, cnt, tab, track, dst, EI, csrc, cdst, coutptr, coutidx,
                     keep_mutual, beta, dstate, hist, p_tri, n_moves, rs):  # type: ignore[no-untyped-def]  # fmt: skip
    """:func:`directed_moves` with proposals drawn from the complement's edges (dense graphs).

    A swap of the complement's edges (a->b, c->d) into (a->d, c->b) is the swap of the graph's
    edges (a->d, c->b) into (a->b, c->d), and a reversed directed triangle of the complement is a
    reversed triangle of the graph: the same moves, proposed uniformly over the complement's
    m' edges instead of the graph's m. The proposals stay symmetric (m' is invariant), so the
    stationary distribution is the same; a graph denser than half the pairs has m' < m, hence
    fewer, more often accepted proposals. The graph's edges keep their source and sign as in
    :func:`directed_moves`: ``EI[u, v]`` is the index of the graph's edge u->v (-1 if none),
    ``dst`` the graph's targets, ``csrc``/``cdst`` the complement's edges (sources fixed,
    ``coutptr``/``coutidx`` index them by source).
    """
    mc = len(csrc)
    n = S.shape[0]
    acc = 0
    if mc < 2:
        return 0
    D = dstate[0]
    for _ in range(n_moves):
        if keep_mutual and -3 <= D <= 3:
            hist[D + 3] += 1
        if _uniform(rs) < p_tri:
            # complement triangle a->b->c->a without reverse complement edges: the graph holds
            # a->c, c->b, b->a and none of a->b, b->c, c->a; reversing swaps the two
            i = _below(rs, mc)
            c = _below(rs, n)
            a = csrc[i]
            b = cdst[i]
            if c == a or c == b:  # noqa: SIM109
                continue
            if S[b, c] != 0 or S[c, a] != 0 or S[b, a] == 0 or S[c, b] == 0 or S[a, c] == 0:
                continue
            j = _find_edge(coutptr, coutidx, cdst, b, c)
            k = _find_edge(coutptr, coutidx, cdst, c, a)
            e_ac = EI[a, c]
            e_cb = EI[c, b]
            e_ba = EI[b, a]
            s_ac = np.int64(S[a, c])
            s_cb = np.int64(S[c, b])
            s_ba = np.int64(S[b, a])
            if track:  # the census follows (a plain write is ~5x cheaper otherwise)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, c, 0)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, b, 0)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, b, a, 0)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, b, s_ac)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, b, c, s_ba)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, a, s_cb)
            else:
                S[a, c] = 0
                S[c, b] = 0
                S[b, a] = 0
                S[a, b] = s_ac
                S[b, c] = s_ba
                S[c, a] = s_cb
            dst[e_ac] = b
            dst[e_ba] = c
            dst[e_cb] = a
            EI[a, c] = -1
            EI[c, b] = -1
            EI[b, a] = -1
            EI[a, b] = e_ac
            EI[b, c] = e_ba
            EI[c, a] = e_cb
            cdst[i] = c
            cdst[j] = a
            cdst[k] = b
            acc += 1
            continue
        i = _below(rs, mc)
        j = _below(rs, mc)
        if i == j:
            continue
        a = csrc[i]
        b = cdst[i]
        c = csrc[j]
        d = cdst[j]
        if a == c or b == d or a == d or c == b:  # noqa: SIM109
            continue
        if S[a, d] == 0 or S[c, b] == 0:  # the graph's edges a->d and c->b
            continue
        if keep_mutual:
            delta = 0
            if S[b, a] != 0:
                delta += 1
            if S[d, c] != 0:
                delta += 1
            if S[d, a] != 0:
                delta -= 1
            if S[b, c] != 0:
                delta -= 1
            if delta != 0:
                if not _tilt_accepts(D, delta, beta, rs):
                    continue
                D += delta
        e_ad = EI[a, d]
        e_cb = EI[c, b]
        s_ad = np.int64(S[a, d])
        s_cb = np.int64(S[c, b])
        if track:  # the census follows (a plain write is ~5x cheaper otherwise)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, d, 0)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, b, 0)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, b, s_ad)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, d, s_cb)
        else:
            S[a, d] = 0
            S[c, b] = 0
            S[a, b] = s_ad
            S[c, d] = s_cb
        dst[e_ad] = b
        dst[e_cb] = d
        EI[a, d] = -1
        EI[c, b] = -1
        EI[a, b] = e_ad
        EI[c, d] = e_cb
        cdst[i] = d
        cdst[j] = b
        acc += 1
    dstate[0] = D
    return acc


@cached_njit
def directed_moves(S, nbptr, nblen, nb, cnt, tab, track, src, dst, outptr, outidx,
                   keep_mutual, beta, dstate, hist, p_tri, n_moves, rs, cx):  # type: ignore[no-untyped-def]  # fmt: skip
    """Propose ``n_moves`` moves; returns the number accepted.

    ``cx``: the complement state ``(on, EI, csrc, cdst, coutptr, coutidx)``; when ``on``, the
    proposals are drawn from the complement's edges instead (:func:`complement_moves`).

    With probability ``p_tri`` a directed-triangle reversal: an edge a->b uniformly and a node c
    uniformly; accepted iff b->c and c->a exist and none of b->a, c->b, a->c does (the reversed
    triangle would otherwise create a multi-edge). Otherwise a double-edge swap: an ordered pair of
    distinct edges (a->b, c->d) uniformly, replaced by (a->d, c->b) iff a, b, c, d are distinct,
    a->d and c->b are absent. Both proposals are symmetric (the reverse move has the same
    probability), so without keep_mutual the chain is reversible with respect to the uniform
    distribution.

    keep_mutual: the chain runs on the whole degree-preserving space (which the moves connect)
    with the tilted target pi(G) ~ exp(-beta[0] D) for D > 0 and exp(beta[1] D) for D < 0, D =
    mutual dyads of G minus those of the start (``dstate[0]``); a swap changing D is accepted
    with the Metropolis probability. pi is constant on D = 0, so the states with D = 0 are
    uniform there; the caller keeps only those. ``hist[D + 3]`` counts the proposals made in
    each state with |D| <= 3 (to tune beta).
    """
    if cx[0]:
        return complement_moves(S, nbptr, nblen, nb, cnt, tab, track, dst, cx[1], cx[2], cx[3],
                                cx[4], cx[5], keep_mutual, beta, dstate, hist, p_tri, n_moves,
                                rs)  # fmt: skip
    m = len(src)
    n = S.shape[0]
    acc = 0
    if m < 2:
        return 0
    D = dstate[0]
    for _ in range(n_moves):
        if keep_mutual and -3 <= D <= 3:
            hist[D + 3] += 1
        if _uniform(rs) < p_tri:
            i = _below(rs, m)
            c = _below(rs, n)
            a = src[i]
            b = dst[i]
            if c == a or c == b:  # noqa: SIM109
                continue
            if S[b, c] == 0 or S[c, a] == 0 or S[b, a] != 0 or S[c, b] != 0 or S[a, c] != 0:
                continue
            j = _find_edge(outptr, outidx, dst, b, c)
            k = _find_edge(outptr, outidx, dst, c, a)
            s_ab = np.int64(S[a, b])
            s_bc = np.int64(S[b, c])
            s_ca = np.int64(S[c, a])
            if track:  # the census follows (a plain write is ~5x cheaper otherwise)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, b, 0)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, b, c, 0)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, a, 0)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, c, s_ab)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, b, a, s_bc)
                _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, b, s_ca)
            else:
                S[a, b] = 0
                S[b, c] = 0
                S[c, a] = 0
                S[a, c] = s_ab
                S[b, a] = s_bc
                S[c, b] = s_ca
            dst[i] = c
            dst[j] = a
            dst[k] = b
            acc += 1
            continue
        i = _below(rs, m)
        j = _below(rs, m)
        if i == j:
            continue
        a = src[i]
        b = dst[i]
        c = src[j]
        d = dst[j]
        if a == c or b == d or a == d or c == b:  # noqa: SIM109
            continue
        if S[a, d] != 0 or S[c, b] != 0:
            continue
        if keep_mutual:
            delta = 0
            if S[d, a] != 0:
                delta += 1
            if S[b, c] != 0:
                delta += 1
            if S[b, a] != 0:
                delta -= 1
            if S[d, c] != 0:
                delta -= 1
            if delta != 0:
                if not _tilt_accepts(D, delta, beta, rs):
                    continue
                D += delta
        s_i = np.int64(S[a, b])
        s_j = np.int64(S[c, d])
        if track:  # the census follows (a plain write is ~5x cheaper otherwise)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, b, 0)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, d, 0)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, a, d, s_i)
            _toggle(S, nbptr, nblen, nb, cnt, tab, track, c, b, s_j)
        else:
            S[a, b] = 0
            S[c, d] = 0
            S[a, d] = s_i
            S[c, b] = s_j
        dst[i] = d
        dst[j] = b
        acc += 1
    dstate[0] = D
    return acc


@cached_njit
def shuffle_out_weights(S, nbptr, nblen, nb, cnt, tab, track, dst, outptr, sgn, cx, rs):  # type: ignore[no-untyped-def]  # fmt: skip
    """Assign every source's out-weights to its out-edges by a fresh uniform bijection.

    The edges of source u are the labels ``outptr[u]:outptr[u + 1]`` (each label keeps its
    weight, sign ``sgn``); their targets are permuted (Fisher-Yates) and S, the tracked census
    and the complement's edge index follow. Moves alone cannot do this where a source's out-edges
    are (nearly) fixed, e.g. a source linked to every other node.
    """
    ei = cx[1]
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
                if track:  # the census follows (a plain write is ~5x cheaper otherwise)
                    _toggle(S, nbptr, nblen, nb, cnt, tab, track, u, v, np.int64(sgn[e]))
                else:
                    S[u, v] = np.int64(sgn[e])
            else:
                S[u, v] = sgn[e]
            if cx[0]:
                ei[u, v] = e


@cached_njit
def invariants_hold(S, src, dst, indeg, indeg0, keep_mutual, mutual0):  # type: ignore[no-untyped-def]
    """Whether the in-degrees (and, with keep_mutual, the mutual-dyad count) are the start's."""
    indeg[:] = 0
    mut = 0
    for e in range(len(src)):
        indeg[dst[e]] += 1
        if S[dst[e], src[e]] != 0:
            mut += 1
    for x in range(len(indeg)):
        if indeg[x] != indeg0[x]:
            return False
    return not (keep_mutual and mut != mutual0)


@cached_njit
def directed_samples(S, nbptr, nblen, nb, cnt, tab, src, dst, outptr, outidx, keep_mutual,
                     beta, dstate, hist, p_tri, n_thin, n_samples, indeg0, mutual0, out, rs, cx,
                     sgn):  # type: ignore[no-untyped-def]  # fmt: skip
    """Run the tracked chain and write ``n_samples`` census rows into ``out``.

    Rows are taken every ``n_thin`` proposals at the grid times where D = 0 (always, without keep_mutual); every sample's in-degrees and
    mutual-dyad count are checked. Returns -1 when all checks pass, else the index of the first
    failing sample.
    """
    n = S.shape[0]
    indeg = np.zeros(n, dtype=np.int64)
    if keep_mutual and n_thin < 1 and dstate[0] != 0:
        n_thin = 1  # no moves could never reach D = 0
    s = 0
    while s < n_samples:
        directed_moves(S, nbptr, nblen, nb, cnt, tab, True, src, dst, outptr, outidx,
                       keep_mutual, beta, dstate, hist, p_tri, n_thin, rs, cx)  # fmt: skip
        if keep_mutual and dstate[0] != 0:
            continue
        if not invariants_hold(S, src, dst, indeg, indeg0, keep_mutual, mutual0):
            return s
        shuffle_out_weights(S, nbptr, nblen, nb, cnt, tab, True, dst, outptr, sgn, cx, rs)
        out[s, :] = cnt
        s += 1
    return -1


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
def chain_census_samples(S, nbptr, nblen, nb, cnt, tab, src, dst, outptr, outidx, keep_mutual,
                         beta, dstate, hist, p_tri, n_thin, n_samples, indeg0, mutual0, B,
                         out, rs, cx, sgn):  # type: ignore[no-untyped-def]  # fmt: skip
    """Run the untracked directed chain and write a :func:`census_row` per sample into ``out``.

    The same chain, random stream and sample times as ``_kernels.directed_samples`` (the census
    is only counted differently); every sample's in-degrees and (keep_mutual) mutual-dyad count
    are checked. Returns -1 when all checks pass, else the index of the first failing sample.
    """
    n = S.shape[0]
    indeg = np.zeros(n, dtype=np.int64)
    if keep_mutual and n_thin < 1 and dstate[0] != 0:
        n_thin = 1  # no moves could never reach D = 0
    s = 0
    while s < n_samples:
        directed_moves(S, nbptr, nblen, nb, cnt, tab, False, src, dst, outptr, outidx,
                                keep_mutual, beta, dstate, hist, p_tri, n_thin, rs, cx)  # fmt: skip
        if keep_mutual and dstate[0] != 0:
            continue
        if not invariants_hold(S, src, dst, indeg, indeg0, keep_mutual, mutual0):
            return s
        shuffle_out_weights(S, nbptr, nblen, nb, cnt, tab, False, dst, outptr, sgn, cx, rs)
        census_row(S, src, dst, B, out[s])
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
