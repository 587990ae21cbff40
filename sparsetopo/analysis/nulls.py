"""Null models: random graphs that keep exactly what each model promises, on every sample.

* :func:`sign_shuffle`: topology fixed, edge signs permuted (magnitudes stay in place); for a
  layered graph the signs are permuted within each layer.
* :func:`switching`: directed degree-preserving edge swaps (a->b, c->d) -> (a->d, c->b) on a
  SignedGraph, optionally also keeping the number of mutual dyads; no self-loop or multi-edge is
  ever created (existing self-loops stay fixed). Signs travel with the source (each source keeps
  its out-weights, as in the balance-guided swaps of Zhang et al. 2023) or are re-shuffled.
* :func:`layer_switching`: the same swaps inside each layer of a LayeredGraph (in- and out-degree
  of every neuron kept per layer pair).
* :func:`zahn_null`: Zahn, Daniel, Kutz 2024: the same live neurons and number of edges per layer,
  every live neuron keeping at least one input (unless in the input layer) and one output (unless
  in the output layer).

Swaps are applied in vectorised rounds: each round pairs the edges at random, keeps the proposals
whose new edges are absent (and, if asked, that leave the number of mutual dyads unchanged) and
whose four node pairs {a,b}, {c,d}, {a,d}, {c,b} are touched by no other kept proposal of the
round, so every kept swap is valid on its own and the invariants hold exactly after each round.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from sparsetopo.analysis.graphs import LayeredGraph, SignedGraph, _csr_from_coo
from sparsetopo.analysis.layered import live_neurons, prune_ghost_dead
from sparsetopo.errors import InputError

_DENSE_ADJ_MAX = 100_000_000  # use a dense boolean adjacency up to this many cells


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _shuffle_signs(m: sp.csr_matrix, rng: np.random.Generator) -> sp.csr_matrix:
    out = m.copy()
    out.data = np.abs(out.data) * rng.permutation(np.sign(out.data))
    return out


def sign_shuffle(
    g: SignedGraph | LayeredGraph, seed: int | np.random.Generator | None = None
) -> SignedGraph | LayeredGraph:
    """Same edges and magnitudes, signs randomly permuted among the edges (per layer for a
    LayeredGraph), so the number of positive and negative edges is kept.

    >>> g = SignedGraph.from_edges([0, 1, 2], [1, 2, 0], [1.0, -1.0, 1.0])
    >>> int((sign_shuffle(g, seed=0).adj.data < 0).sum())
    1
    """
    rng = _rng(seed)
    if isinstance(g, SignedGraph):
        return SignedGraph(_shuffle_signs(g.adj, rng))
    if isinstance(g, LayeredGraph):
        return LayeredGraph(tuple(_shuffle_signs(m, rng) for m in g.layers), g.biases)
    raise InputError(f"sign_shuffle takes a SignedGraph or LayeredGraph (got {type(g).__name__})")


class _Swapper:
    """Edge arrays plus a membership structure, mutated in place by swap rounds."""

    def __init__(
        self, src: np.ndarray, dst: np.ndarray, shape: tuple[int, int], square: bool,
        keep_mutual: bool,
    ) -> None:  # fmt: skip
        self.src = src.astype(np.int64)
        self.dst = dst.astype(np.int64)
        self.shape = shape
        self.square = square
        self.keep_mutual = keep_mutual and square
        self.dense = shape[0] * shape[1] <= _DENSE_ADJ_MAX
        # swappable edges: not self-loops
        self.movable = np.flatnonzero(self.src != self.dst) if square else np.arange(len(self.src))
        if self.dense:
            self.adj = np.zeros(shape, dtype=bool)
            self.adj[self.src, self.dst] = True
        else:
            self.keys = np.sort(self.src * shape[1] + self.dst)

    def has(self, r: np.ndarray, c: np.ndarray) -> np.ndarray:
        if self.dense:
            return self.adj[r, c]
        q = r * self.shape[1] + c
        pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
        return self.keys[pos] == q

    def round(self, rng: np.random.Generator) -> int:
        mv = self.movable
        h = len(mv) // 2
        if h == 0:
            return 0
        perm = rng.permutation(mv)
        e1, e2 = perm[:h], perm[h : 2 * h]
        a, b = self.src[e1], self.dst[e1]
        c, d = self.src[e2], self.dst[e2]
        ok = (a != c) & (b != d)
        if self.square:
            ok &= (a != d) & (c != b)
        ok &= ~self.has(a, d) & ~self.has(c, b)
        if self.keep_mutual:
            delta = (
                self.has(d, a).astype(np.int8) + self.has(b, c) - self.has(b, a) - self.has(d, c)
            )
            ok &= delta == 0
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return 0
        a, b, c, d = a[idx], b[idx], c[idx], d[idx]
        n1 = self.shape[1]
        if self.square:
            pairs = [np.minimum(x, y) * n1 + np.maximum(x, y) for x, y in ((a, b), (c, d), (a, d), (c, b))]
        else:
            pairs = [x * n1 + y for x, y in ((a, b), (c, d), (a, d), (c, b))]
        allp = np.concatenate(pairs)
        uniq, inv, cnt = np.unique(allp, return_inverse=True, return_counts=True)
        clash = (cnt[inv] > 1).reshape(4, -1).any(axis=0)
        keep = ~clash
        if not keep.any():
            return 0
        idx, a, b, c, d = idx[keep], a[keep], b[keep], c[keep], d[keep]
        if self.dense:
            self.adj[a, b] = False
            self.adj[c, d] = False
            self.adj[a, d] = True
            self.adj[c, b] = True
        self.dst[e1[idx]] = d
        self.dst[e2[idx]] = b
        if not self.dense:
            self.keys = np.sort(self.src * n1 + self.dst)
        return int(len(idx))


def _rounds(swaps_per_edge: float) -> int:
    # one round proposes m / 2 swaps
    return max(1, int(np.ceil(2 * swaps_per_edge)))


def switching_samples(
    g: SignedGraph,
    n: int,
    seed: int | np.random.Generator | None = None,
    keep_mutual: bool = False,
    signs: str = "travel",
    burn_in: float = 10.0,
    thin: float = 2.0,
) -> Iterator[SignedGraph]:
    """Yield ``n`` degree-preserving randomisations of ``g`` from one Markov chain: ``burn_in``
    attempted swaps per edge before the first sample, ``thin`` per edge between samples.
    signs="travel" keeps each weight on its source's swapped edge; "shuffle" permutes the signs
    over the edges of every sample."""
    if signs not in ("travel", "shuffle"):
        raise InputError(f"unknown signs {signs!r}; use 'travel' or 'shuffle'")
    if not isinstance(g, SignedGraph):
        raise InputError(f"switching needs a SignedGraph (got {type(g).__name__})")
    rng = _rng(seed)
    src, dst, w = g.edges()
    sw = _Swapper(src, dst, (g.n_nodes, g.n_nodes), True, keep_mutual)
    for _ in range(_rounds(burn_in)):
        sw.round(rng)
    for i in range(n):
        if i:
            for _ in range(_rounds(thin)):
                sw.round(rng)
        ww = w if signs == "travel" else np.abs(w) * rng.permutation(np.sign(w))
        yield SignedGraph(_csr_from_coo(sw.src, sw.dst, ww, (g.n_nodes, g.n_nodes), "sample"))


def switching(
    g: SignedGraph,
    seed: int | np.random.Generator | None = None,
    keep_mutual: bool = False,
    signs: str = "travel",
    swaps_per_edge: float = 10.0,
) -> SignedGraph:
    """One degree-preserving randomisation of ``g`` (see :func:`switching_samples`).

    >>> g = SignedGraph.from_edges([0, 1, 2, 3], [1, 2, 3, 0], [1.0, 1.0, 1.0, -1.0])
    >>> h = switching(g, seed=1)
    >>> h.n_edges, sorted(h.adj.getnnz(axis=1).tolist())
    (4, [1, 1, 1, 1])
    """
    return next(switching_samples(g, 1, seed, keep_mutual, signs, burn_in=swaps_per_edge))


def layer_switching_samples(
    lg: LayeredGraph,
    n: int,
    seed: int | np.random.Generator | None = None,
    signs: str = "travel",
    burn_in: float = 10.0,
    thin: float = 2.0,
) -> Iterator[LayeredGraph]:
    """Yield ``n`` randomisations of a layered graph by swaps inside each layer pair."""
    if signs not in ("travel", "shuffle"):
        raise InputError(f"unknown signs {signs!r}; use 'travel' or 'shuffle'")
    if not isinstance(lg, LayeredGraph):
        raise InputError(f"layer_switching needs a LayeredGraph (got {type(lg).__name__})")
    rng = _rng(seed)
    swappers, weights = [], []
    for m in lg.layers:
        coo = m.tocoo()
        swappers.append(_Swapper(coo.row, coo.col, m.shape, False, False))
        weights.append(coo.data.copy())
    for _ in range(_rounds(burn_in)):
        for sw in swappers:
            sw.round(rng)
    for i in range(n):
        if i:
            for _ in range(_rounds(thin)):
                for sw in swappers:
                    sw.round(rng)
        mats = []
        for sw, w, m in zip(swappers, weights, lg.layers, strict=True):
            ww = w if signs == "travel" else np.abs(w) * rng.permutation(np.sign(w))
            mats.append(_csr_from_coo(sw.src, sw.dst, ww, m.shape, "sample"))
        yield LayeredGraph(tuple(mats), lg.biases)


def layer_switching(
    lg: LayeredGraph,
    seed: int | np.random.Generator | None = None,
    signs: str = "travel",
    swaps_per_edge: float = 10.0,
) -> LayeredGraph:
    """One randomisation of ``lg`` by degree-preserving swaps within each layer pair."""
    return next(layer_switching_samples(lg, 1, seed, signs, burn_in=swaps_per_edge))


def zahn_null(
    lg: LayeredGraph, seed: int | np.random.Generator | None = None
) -> LayeredGraph:
    """Zahn, Daniel, Kutz 2024 null network: ghost and dead neurons of ``lg`` are removed; each
    layer gets the same number of edges between the same live neurons, placed at random so that
    every live source has an output and every live target an input. Construction: a random
    minimum edge cover (shuffled sources and targets paired cyclically, max(|S|, |T|) edges)
    plus uniformly chosen extra pairs; the layer's signed weights are permuted onto the new edges.
    (The edge cover makes this a valid sample of the constrained family, not a uniform one.)

    >>> import numpy as np
    >>> lg = LayeredGraph.from_matrices([np.eye(3), np.ones((3, 2))])
    >>> zahn_null(lg, seed=0).n_edges
    9
    """
    if not isinstance(lg, LayeredGraph):
        raise InputError(f"zahn_null needs a LayeredGraph (got {type(lg).__name__})")
    rng = _rng(seed)
    live = live_neurons(lg)
    pruned = prune_ghost_dead(lg)
    mats = []
    for i, m in enumerate(pruned.layers):
        s_live = np.flatnonzero(live[i])
        t_live = np.flatnonzero(live[i + 1])
        ne = m.nnz
        if ne == 0:
            mats.append(sp.csr_matrix(m.shape))
            continue
        ns, nt = len(s_live), len(t_live)
        k = max(ns, nt)
        s_sh, t_sh = rng.permutation(s_live), rng.permutation(t_live)
        j = np.arange(k)
        cover = s_sh[j % ns].astype(np.int64) * m.shape[1] + t_sh[j % nt]
        extra = ne - k
        keys = cover
        if extra > 0:
            space = ns * nt
            if space <= 5_000_000:
                cand = (s_live[:, None].astype(np.int64) * m.shape[1] + t_live[None, :]).ravel()
                cand = np.setdiff1d(cand, cover, assume_unique=True)
                keys = np.concatenate([cover, rng.choice(cand, size=extra, replace=False)])
            else:
                chosen = set(cover.tolist())
                while len(chosen) < ne:
                    need = ne - len(chosen)
                    r = s_live[rng.integers(0, ns, 2 * need)].astype(np.int64) * m.shape[1]
                    r += t_live[rng.integers(0, nt, 2 * need)]
                    for x in r.tolist():
                        if len(chosen) >= ne:
                            break
                        chosen.add(x)
                keys = np.fromiter(chosen, dtype=np.int64)
        w = rng.permutation(m.data)
        mats.append(_csr_from_coo(keys // m.shape[1], keys % m.shape[1], w, m.shape, "sample"))
    return LayeredGraph(tuple(mats), lg.biases)
