"""Compiled (numba) triad census and signed FFL sums over neighbour bitsets.

Used per sample by the switching null (:mod:`sparsetopo.analysis.zscores`): the chain moves
without bookkeeping and every sample is recounted here, which costs O(m n / 64) word operations
instead of the O(m d) of a neighbour-list census or the O(n^3) of dense products.

Only the seven closed classes (every pair of the three nodes adjacent) need the third node;
they are counted per directed edge (a, b) as intersections of a's out-neighbour set with b's
in-neighbour set, split by whether each dyad is asymmetric or mutual. The remaining nine classes
follow from the degrees (:func:`census_row`). The signed sums are the same intersections split by
sign: with X+ / X- the positive and negative parts of a set, the sum of the products of the two
signs over the common nodes is 2 |(X+ & Y+) | (X- & Y-)| - |X & Y|.

Bitset planes ``B[x, k]`` (``W`` 64-bit words per node), for a node x and a third node c:

====  =========================================================
k     c is in the plane when
====  =========================================================
0, 1  x -> c asymmetric, positive / negative
2, 3  c -> x asymmetric, positive / negative
4, 5  x -> c mutual (c -> x exists too), sign of x -> c + / -
6, 7  c -> x mutual, sign of c -> x + / -
====  =========================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from sparsetopo.analysis._kernels import directed_moves, invariants_hold, shuffle_out_weights

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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


# ============================================================================ layered networks
#: Row layout of :func:`layered_row`: the nine LAYERED_MOTIFS counts, then the balanced and the
#: total bi-parallels of cycle4_balance.
LAYERED_ROW = 11


@njit(cache=True)
def _pop_and(X, a, Y, b, W):  # type: ignore[no-untyped-def]
    c = 0
    for i in range(W):
        c += _popcount(X[a, i] & Y[b, i])
    return np.int64(c)


@njit(cache=True)
def layered_row(sizes, offs, eptr, src, dst, pos, OP, ON, IP, IN, LM, live, R, out):  # type: ignore[no-untyped-def]  # fmt: skip
    """Write the layered motif counts of one sample, after ghost/dead removal, into ``out``.

    ``sizes``: neurons per layer; ``offs``: their global offsets; layer ``l``'s edges are
    ``eptr[l]:eptr[l + 1]`` of ``src``/``dst`` (local indices) with ``pos`` (True for a positive
    weight). Scratch: ``OP``/``ON`` (out-sets, positive / negative edges, over the next layer),
    ``IP``/``IN`` (in-sets over the previous layer), shape (N, W); ``LM`` (L + 1, W) live masks;
    ``live`` (N,) bool; ``R`` (W,). Counts as :func:`~sparsetopo.analysis.layered_motifs` and
    :func:`~sparsetopo.analysis.cycle4_balance` with ``remove_ghost_dead=True``.
    """
    L = len(sizes) - 1
    one = np.uint64(1)
    OP[:] = 0
    ON[:] = 0
    IP[:] = 0
    IN[:] = 0
    for lay in range(L):
        for e in range(eptr[lay], eptr[lay + 1]):
            a = offs[lay] + src[e]
            b = offs[lay + 1] + dst[e]
            bit_t = one << np.uint64(dst[e] & 63)
            bit_s = one << np.uint64(src[e] & 63)
            if pos[e]:
                OP[a, dst[e] >> 6] |= bit_t
                IP[b, src[e] >> 6] |= bit_s
            else:
                ON[a, dst[e] >> 6] |= bit_t
                IN[b, src[e] >> 6] |= bit_s
    # ghost / dead removal until nothing changes (the greatest live set: order does not matter)
    live[:] = True
    LM[:] = 0
    for lay in range(L + 1):
        for x in range(sizes[lay]):
            LM[lay, x >> 6] |= one << np.uint64(x & 63)
    changed = True
    while changed:
        changed = False
        for lay in range(L):
            ws = (sizes[lay] + 63) // 64
            wt = (sizes[lay + 1] + 63) // 64
            for k in range(sizes[lay + 1]):  # ghosts: no input from a live neuron
                b = offs[lay + 1] + k
                if not live[b]:
                    continue
                c = 0
                for i in range(ws):
                    c += _popcount((IP[b, i] | IN[b, i]) & LM[lay, i])
                if c == 0:
                    live[b] = False
                    LM[lay + 1, k >> 6] &= ~(one << np.uint64(k & 63))
                    changed = True
            for j in range(sizes[lay]):  # dead: no output to a live neuron
                a = offs[lay] + j
                if not live[a]:
                    continue
                c = 0
                for i in range(wt):
                    c += _popcount((OP[a, i] | ON[a, i]) & LM[lay + 1, i])
                if c == 0:
                    live[a] = False
                    LM[lay, j >> 6] &= ~(one << np.uint64(j & 63))
                    changed = True
    # prune: keep only edges between live neurons
    for lay in range(L + 1):
        for x in range(sizes[lay]):
            g = offs[lay] + x
            for i in range(OP.shape[1]):
                if not live[g]:
                    OP[g, i] = 0
                    ON[g, i] = 0
                    IP[g, i] = 0
                    IN[g, i] = 0
                else:
                    if lay < L:
                        OP[g, i] &= LM[lay + 1, i]
                        ON[g, i] &= LM[lay + 1, i]
                    if lay > 0:
                        IP[g, i] &= LM[lay - 1, i]
                        IN[g, i] &= LM[lay - 1, i]
    out[:] = 0
    for lay in range(L):
        wt = (sizes[lay + 1] + 63) // 64
        ws = (sizes[lay] + 63) // 64
        for j in range(sizes[lay]):
            a = offs[lay] + j
            d = 0
            for i in range(wt):
                d += _popcount(OP[a, i] | ON[a, i])
            d = np.int64(d)
            out[0] += d  # edge
            out[1] += d * (d - 1) // 2  # diverging2
            out[4] += d * (d - 1) * (d - 2) // 6  # diverging3
        for k in range(sizes[lay + 1]):
            b = offs[lay + 1] + k
            d = 0
            for i in range(ws):
                d += _popcount(IP[b, i] | IN[b, i])
            d = np.int64(d)
            out[2] += d * (d - 1) // 2  # converging2
            out[5] += d * (d - 1) * (d - 2) // 6  # converging3
        # bifan: pairs of neurons on the smaller side and their common neighbours
        if sizes[lay] <= sizes[lay + 1]:
            o, n_side, w = offs[lay], sizes[lay], wt
            for x in range(n_side):
                for y in range(x + 1, n_side):
                    c = 0
                    for i in range(w):
                        c += _popcount((OP[o + x, i] | ON[o + x, i]) & (OP[o + y, i] | ON[o + y, i]))
                    c = np.int64(c)
                    out[7] += c * (c - 1) // 2
        else:
            o, n_side, w = offs[lay + 1], sizes[lay + 1], ws
            for x in range(n_side):
                for y in range(x + 1, n_side):
                    c = 0
                    for i in range(w):
                        c += _popcount((IP[o + x, i] | IN[o + x, i]) & (IP[o + y, i] | IN[o + y, i]))
                    c = np.int64(c)
                    out[7] += c * (c - 1) // 2
    for lay in range(L - 1):
        wm = (sizes[lay + 1] + 63) // 64
        w3 = (sizes[lay + 3] + 63) // 64 if lay + 2 < L else 0
        for j in range(sizes[lay]):
            a = offs[lay] + j
            if not live[a]:
                continue
            R[:] = 0
            for k in range(sizes[lay + 2]):
                b = offs[lay + 2] + k
                if not live[b]:
                    continue
                pp = 0
                pn = 0
                for i in range(wm):
                    op = OP[a, i]
                    on = ON[a, i]
                    ip = IP[b, i]
                    inn = IN[b, i]
                    pp += _popcount((op & ip) | (on & inn))
                    pn += _popcount((op & inn) | (on & ip))
                p = np.int64(pp)
                q = np.int64(pn)
                t = p + q
                if t == 0:
                    continue
                out[3] += 1  # chain2: (i, k) joined by a 2-path
                out[8] += t * (t - 1) // 2  # biparallel
                out[9] += p * (p - 1) // 2 + q * (q - 1) // 2  # balanced bi-parallels
                for i in range(w3):  # chain3: what k reaches one layer further
                    R[i] |= OP[b, i] | ON[b, i]
            for i in range(w3):
                out[6] += _popcount(R[i])
    out[10] = out[8]
