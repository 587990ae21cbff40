"""Compiled (numba) kernels of the exact statistics of one large signed graph.

Used by :mod:`sparsetopo.analysis.exact`. Every kernel here calls only kernels of this module
(numba caches a kernel with the code of its callees but checks only its own file for changes,
decision 0017), so nothing here calls :mod:`sparsetopo.analysis._kernels`.

Bitset planes ``B[x, k]`` (``W`` 64-bit words per node), for a node x and another node c:
k = 0, 1: x -> c asymmetric, positive / negative; 2, 3: c -> x asymmetric, + / -;
4, 5: x -> c mutual, sign of x -> c + / -; 6, 7: c -> x mutual, sign of c -> x + / -;
8, 9: x - c joined in the undirected signed graph of the triangle balance, + / -.
Every intersection |X(a) & Y(b)| over an edge (a, b) is a popcount over ``W`` words.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from sparsetopo.analysis._jit import cached_njit

#: Planes per node (layout in the module docstring).
PLANES = 10
#: Layout of the ``out`` vector of :func:`directed_counts`: the seven closed triad classes
#: (030T, 030C, 120C, 120D, 120U, 210, 300), the signed FFL sums (030T, 120U, 120D, 120C, 210,
#: 300), then sum_e C(c_e, 2) and sum over mutual ordered pairs of (|in & in| + |out & out|).
N_OUT = 15


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
def fill_planes(src, dst, neg, mutual, usrc, udst, uneg, B):  # type: ignore[no-untyped-def]
    """Set the bits of planes 0-7 (directed edges) and 8-9 (undirected edges) of ``B``."""
    B[:] = 0
    one = np.uint64(1)
    for e in range(len(src)):
        a = src[e]
        b = dst[e]
        k = 1 if neg[e] else 0
        if mutual[e]:
            k += 4
        B[a, k, b >> 6] |= one << np.uint64(b & 63)
        B[b, k + 2, a >> 6] |= one << np.uint64(a & 63)
    for e in range(len(usrc)):
        a = usrc[e]
        b = udst[e]
        k = 9 if uneg[e] else 8
        B[a, k, b >> 6] |= one << np.uint64(b & 63)
        B[b, k, a >> 6] |= one << np.uint64(a & 63)


@cached_njit
def directed_counts(src, dst, neg, mutual, B, out):  # type: ignore[no-untyped-def]
    """Accumulate the closed triads, signed FFL sums and FFL pair sums over every edge.

    src, dst: the directed edges without self-loops, each once; neg: their sign (True for
    negative); mutual: whether the reverse edge exists; B: planes filled by :func:`fill_planes`;
    out: int64 vector of length N_OUT (layout at ``N_OUT``), overwritten.
    """
    W = B.shape[2]
    t030t = t030c = t120c = t120d = t120u = t210 = t300 = 0
    s030t = s120u = s120d = s120c = s210 = s300 = 0
    sum_c2 = 0
    pair2 = 0
    for e in range(len(src)):
        a = src[e]
        b = dst[e]
        sg = -1 if neg[e] else 1
        mut = mutual[e]
        # |X & Y| and its agreeing part for X in {asym out, mutual} of a, Y in {asym in,
        # mutual} of b; |out(a) & out(b)|, |in(a) & in(b)|, and the reversed asym pair
        c_oi = g_oi = c_om = g_om = c_mi = g_mi = c_mm = g_mm = c_rev = 0
        c_oo = c_ii = 0
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
            ii = ip | inn
            mo = mop | mon
            mi = mip | min_
            c_oi += _popcount(o & ii)
            g_oi += _popcount((op & ip) | (on & inn))
            c_om += _popcount(o & mi)
            g_om += _popcount((op & mip) | (on & min_))
            c_mi += _popcount(mo & ii)
            g_mi += _popcount((mop & ip) | (mon & inn))
            c_mm += _popcount(mo & mi)
            g_mm += _popcount((mop & mip) | (mon & min_))
            b_out = B[b, 0, i] | B[b, 1, i]
            a_in = B[a, 2, i] | B[a, 3, i]
            if not mut:
                c_rev += _popcount(b_out & a_in)
            c_oo += _popcount((o | mo) & (b_out | B[b, 4, i] | B[b, 5, i]))
            c_ii += _popcount((a_in | B[a, 6, i] | B[a, 7, i]) & (ii | mi))
        c_oi = np.int64(c_oi)
        c_om = np.int64(c_om)
        c_mi = np.int64(c_mi)
        c_mm = np.int64(c_mm)
        s_oi = 2 * np.int64(g_oi) - c_oi
        s_om = 2 * np.int64(g_om) - c_om
        s_mi = 2 * np.int64(g_mi) - c_mi
        s_mm = 2 * np.int64(g_mm) - c_mm
        # FFLs through this edge: as i -> j (k in out(a) & out(b)), as j -> k (i in in(a) &
        # in(b)), as i -> k (j in out(a) & in(b))
        c_e = np.int64(c_oo) + np.int64(c_ii) + c_oi + c_om + c_mi + c_mm
        sum_c2 += c_e * (c_e - 1) // 2
        if mut:  # each mutual dyad is visited once per direction
            pair2 += np.int64(c_oo) + np.int64(c_ii)
            t120c += c_oi
            s120c += sg * s_oi
            s210 += sg * (s_om + s_mi)
            t300 += c_mm
            s300 += sg * s_mm
        else:
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
    out[0] = t030t
    out[1] = t030c // 3
    out[2] = t120c
    out[3] = t120d // 2
    out[4] = t120u // 2
    out[5] = t210
    out[6] = t300 // 6
    out[7] = s030t
    out[8] = s120u
    out[9] = s120d
    out[10] = s120c
    out[11] = s210
    out[12] = s300
    out[13] = sum_c2
    out[14] = pair2


@cached_njit
def triangle_counts(usrc, udst, uneg, B, out):  # type: ignore[no-untyped-def]
    """Count 3 x the undirected triangles and 3 x the unbalanced ones (out[0], out[1]).

    usrc, udst, uneg: every undirected edge once (its sign: True for negative); B: planes 8, 9
    filled by :func:`fill_planes`. Per edge, the common neighbours ``T`` and the sum of their
    sign products ``P``: ``(T - s P) / 2`` of them close an unbalanced triangle.
    """
    W = B.shape[2]
    tot = 0
    unb = 0
    for e in range(len(usrc)):
        a = usrc[e]
        b = udst[e]
        t = x = y = z = 0
        for i in range(W):
            ap = B[a, 8, i]
            au = ap | B[a, 9, i]
            bp = B[b, 8, i]
            bu = bp | B[b, 9, i]
            t += _popcount(au & bu)
            x += _popcount(ap & bp)
            y += _popcount(ap & bu)
            z += _popcount(au & bp)
        t = np.int64(t)
        prod = t - 2 * np.int64(y) - 2 * np.int64(z) + 4 * np.int64(x)
        s = -1 if uneg[e] else 1
        tot += t
        unb += (t - s * prod) // 2
    out[0] = tot
    out[1] = unb


# ============================================================================ layer swaps
# The layer-switching chain of ``_kernels.bipartite_swaps`` with the same proposals, the same
# random stream (xoshiro256**, same state words) and the same accepted moves, on a cheaper
# layout: every layer's edges as int32 (src, dst) pairs in one array (one cache line per edge
# instead of two) and its adjacency as bit rows (32 KB for a 512 x 512 layer: in L1 where the
# int8 matrix needed 256 KB). Measured 2.2 s -> 1.2 s for ResNet-18's largest layer.


@njit(inline="always")
def _rotl(x, k):  # type: ignore[no-untyped-def]
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(inline="always")
def _next(rs):  # type: ignore[no-untyped-def]
    """xoshiro256** (Blackman and Vigna 2018), as ``_kernels._next``; advances ``rs``."""
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
def _below(rs, m):  # type: ignore[no-untyped-def]
    """Return an integer uniform on [0, m), drawn as ``_kernels._below`` draws it."""
    k = np.int64(np.float64(_next(rs) >> np.uint64(11)) * (1.0 / 9007199254740992.0) * m)
    return k if k < m else m - 1


@cached_njit
def layer_swaps(MB, row0, E, eptr, moves, rs):  # type: ignore[no-untyped-def]
    """Propose ``moves[l]`` double-edge swaps on every layer ``l`` in turn; return the accepted.

    ``E`` (m, 2) int32: every layer's edges (source, target; local ids), layer ``l`` at
    ``eptr[l]:eptr[l + 1]``; ``MB``: bit rows, source ``x`` of layer ``l`` at row
    ``row0[l] + x``. An ordered pair of distinct edges of the layer is drawn uniformly;
    (a->b, c->d) -> (a->d, c->b) iff a != c, b != d and both new edges are absent.
    """
    one = np.uint64(1)
    acc = 0
    for lay in range(len(moves)):
        lo = eptr[lay]
        m = eptr[lay + 1] - lo
        if m < 2:
            continue
        r0 = row0[lay]
        for _ in range(moves[lay]):
            i = _below(rs, m)
            j = _below(rs, m)
            if i == j:
                continue
            i += lo
            j += lo
            a = E[i, 0] + r0
            b = E[i, 1]
            c = E[j, 0] + r0
            d = E[j, 1]
            if a == c or b == d:
                continue
            if (MB[a, d >> 6] >> np.uint64(d & 63)) & one:
                continue
            if (MB[c, b >> 6] >> np.uint64(b & 63)) & one:
                continue
            MB[a, b >> 6] ^= one << np.uint64(b & 63)
            MB[c, d >> 6] ^= one << np.uint64(d & 63)
            MB[a, d >> 6] |= one << np.uint64(d & 63)
            MB[c, b >> 6] |= one << np.uint64(b & 63)
            E[i, 1] = d
            E[j, 1] = b
            acc += 1
    return acc
