"""Compiled (numba) layered motif census over neighbour bitsets, one sample at a time.

Used by :func:`sparsetopo.analysis.nulls.layer_census_samples` (the layer-switching null's
default families): ghost and dead neurons removed over live-neuron masks, bi-fans and
bi-parallels as popcounts of out-sets against in-sets, the 3-chains as the union of the reached
neurons' out-sets. The numbers equal :func:`~sparsetopo.analysis.layered_motifs` and
:func:`~sparsetopo.analysis.cycle4_balance` with ``remove_ghost_dead=True``.
"""

from __future__ import annotations

import numpy as np

# no other kernel is called (numba would not notice an edit there, see _kernels), only the
# popcount intrinsic
from sparsetopo.analysis._jit import cached_njit
from sparsetopo.analysis._kernels import _popcount

#: Row layout of :func:`layered_row`: the nine LAYERED_MOTIFS counts, then the balanced and the
#: total bi-parallels of cycle4_balance.
LAYERED_ROW = 11


@cached_njit
def _pairs_c2(P, Q, o, n_side, w):  # type: ignore[no-untyped-def]
    """Sum over pairs x < y of nodes o..o+n_side of C(|set x & set y|, 2); sets = P | Q rows."""
    tot = 0
    for x in range(n_side):
        for y in range(x + 1, n_side):
            c = 0
            for i in range(w):
                c += _popcount((P[o + x, i] | Q[o + x, i]) & (P[o + y, i] | Q[o + y, i]))
            c = np.int64(c)
            tot += c * (c - 1) // 2
    return tot


@cached_njit
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
            out[7] += _pairs_c2(OP, ON, offs[lay], sizes[lay], wt)
        else:
            out[7] += _pairs_c2(IP, IN, offs[lay + 1], sizes[lay + 1], ws)
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
