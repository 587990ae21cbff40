"""Null models: random graphs sampled from a stated distribution.

Each model keeps exactly what it promises:

* :func:`sign_shuffle`: topology and magnitudes fixed, the signs uniformly permuted over the edges
  (per layer for a LayeredGraph).
* :func:`switching` / :func:`switching_samples`: uniform over the directed graphs with the same
  in- and out-degree of every node (self-loops fixed, none created), optionally with the same
  number of mutual dyads; signs travel with their edge's source or are re-shuffled.
* :func:`layer_switching` / :func:`layer_switching_samples`: uniform over the layered graphs with
  the same in- and out-degree of every neuron in every layer.
* :func:`zahn_null` / :func:`zahn_samples`: Zahn, Daniel, Kutz 2024: uniform over the layered
  graphs with the same live neurons and the same number of edges per layer, every live neuron
  keeping an input (unless in the input layer) and an output (unless in the output layer).

The three graph nulls are Metropolis chains with symmetric proposals (double-edge swaps, plus
directed-triangle reversals for directed graphs, plus single-edge relocations for the Zahn null),
compiled with numba (:mod:`sparsetopo.analysis._kernels`). A proposal that would leave the state
space is rejected, so the stationary distribution is uniform over the state space; the unit tests
enumerate every graph of small cases and check with chi-square tests that each is reached equally
often. Chain lengths are counted in *proposals per movable edge*: ``burn_in`` before the first
sample and ``thin`` between consecutive samples of one chain (:data:`DEFAULT_BURN_IN`,
:data:`DEFAULT_THIN`; docs/analysis.md reports the autocorrelation of motif counts along the chain
that these defaults are derived from). A directed graph denser than half the pairs draws its
proposals from its complement's edges (the same moves, fewer of them rejected), and its movable
edges are then the complement's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from sparsetopo.analysis import _kernels as K
from sparsetopo.analysis import _layered_census as LC
from sparsetopo.analysis import _sparse_kernels as SK
from sparsetopo.analysis._validation import rng as _rng
from sparsetopo.analysis.graphs import LayeredGraph, SignedGraph, _csr_from_coo
from sparsetopo.analysis.layered import LAYERED_MOTIFS, live_neurons, prune_ghost_dead
from sparsetopo.errors import InputError

__all__ = [
    "COMPLEMENT_MAX_N",
    "DEFAULT_BURN_IN",
    "DEFAULT_THIN",
    "DENSE_MAX_CELLS",
    "TRIANGLE_MOVE_P",
    "DirectedChain",
    "layer_census_samples",
    "layer_switching",
    "layer_switching_samples",
    "layered_counts",
    "sign_shuffle",
    "switching",
    "switching_census_samples",
    "switching_samples",
    "zahn_null",
    "zahn_samples",
]

#: Proposals per movable edge before the first sample of a chain.
DEFAULT_BURN_IN = 10.0
#: Proposals per movable edge between two samples of one chain (docs/analysis.md, "Mixing").
DEFAULT_THIN = 1.0
#: Probability that a directed-chain proposal is a triangle reversal rather than a swap.
TRIANGLE_MOVE_P = 0.1
#: Graphs of at most this many nodes that are denser than half the pairs move by proposals over
#: their complement's edges (``_kernels.ComplementState``; it keeps an n x n edge index).
COMPLEMENT_MAX_N = 2048
#: The directed and layer chains keep a dense adjacency matrix: at most this many cells.
DENSE_MAX_CELLS = 100_000_000


def _moves(per_edge: float, m: int) -> int:
    if per_edge < 0:
        raise InputError(f"chain lengths are proposals per edge and must be >= 0 (got {per_edge})")
    return int(np.ceil(per_edge * m))


def _check_signs(signs: str) -> None:
    if signs not in ("travel", "shuffle"):
        raise InputError(f"unknown signs {signs!r}; use 'travel' or 'shuffle'")


def _shuffle_signs(m: sp.csr_matrix, rng: np.random.Generator) -> sp.csr_matrix:
    out = m.copy()
    out.data = np.abs(out.data) * rng.permutation(np.sign(out.data))
    return out


def sign_shuffle(
    g: SignedGraph | LayeredGraph, seed: int | np.random.Generator | None = None
) -> SignedGraph | LayeredGraph:
    """Permute the signs of ``g`` uniformly among its edges, keeping edges and magnitudes.

    Parameters
    ----------
    g : SignedGraph or LayeredGraph
        The graph; for a LayeredGraph the signs are permuted within each layer.
    seed : int, Generator or None
        Random source.

    Returns
    -------
    SignedGraph or LayeredGraph
        A sample of the sign-shuffle null.

    Raises
    ------
    InputError
        If ``g`` is neither a SignedGraph nor a LayeredGraph.

    Notes
    -----
    Distribution sampled: with ``P`` positive and ``Q`` negative edges (per layer), every
    assignment of ``P`` plus signs and ``Q`` minus signs to the edges has probability
    ``1 / C(P + Q, P)`` (a uniform permutation of the sign vector).

    References
    ----------
    .. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
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


# ============================================================================ directed chain
@functools.lru_cache(maxsize=1)
def _census_table() -> np.ndarray:
    from sparsetopo.analysis.triads import _lookup

    return np.ascontiguousarray(_lookup()[1], dtype=np.int64)


class DirectedChain:
    """State of the directed switching chain of one graph (see :func:`switching_samples`).

    Parameters
    ----------
    g : SignedGraph
        Start graph.
    keep_mutual : bool
        Also keep the number of mutual dyads.
    track : bool
        Maintain the signed triad census (over :func:`~sparsetopo.analysis.signed_triad_keys`)
        incrementally, move by move.
    rng : Generator
        Seeds the compiled chain.
    """

    def __init__(
        self, g: SignedGraph, keep_mutual: bool, track: bool, rng: np.random.Generator
    ) -> None:
        if not isinstance(g, SignedGraph):
            raise InputError(f"switching needs a SignedGraph (got {type(g).__name__})")
        n = g.n_nodes
        if n * n > DENSE_MAX_CELLS:
            raise InputError(
                f"the switching null keeps a dense {n} x {n} adjacency; graphs of more than "
                f"{int(np.sqrt(DENSE_MAX_CELLS))} nodes are not supported (sample a subgraph)"
            )
        src, dst, w = g.edges()
        loop = src == dst
        self.n = n
        self.loops = (src[loop], dst[loop], w[loop])
        order = np.argsort(src[~loop], kind="stable")
        self.src = np.ascontiguousarray(src[~loop][order], dtype=np.int64)
        self.dst = np.ascontiguousarray(dst[~loop][order], dtype=np.int64)
        self.w = w[~loop][order]
        self.m = len(self.src)
        self.keep_mutual = bool(keep_mutual)
        self.track = bool(track)
        outdeg = np.bincount(self.src, minlength=n).astype(np.int64)
        self.outptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(outdeg, out=self.outptr[1:])
        self.outidx = np.arange(self.m, dtype=np.int64)
        self.indeg0 = np.bincount(self.dst, minlength=n).astype(np.int64)
        cap = outdeg + self.indeg0
        self.nbptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(cap, out=self.nbptr[1:])
        self.nblen = np.zeros(n, dtype=np.int64)
        self.nb = np.zeros(max(int(self.nbptr[-1]), 1), dtype=np.int64)
        self.S = np.zeros((n, n), dtype=np.int8)
        self.tab = _census_table()
        n_keys = int(self.tab.max()) + 1
        self.cnt = np.zeros(n_keys, dtype=np.int64)
        self.cnt[self.tab[0]] = n * (n - 1) * (n - 2) // 6
        self.sgn = np.where(self.w > 0, 1, 2).astype(np.int64)
        #: The kernels' state (``_kernels.GraphState`` etc.: shapes and dtypes there); the
        #: attributes above are the same arrays.
        self.g = K.GraphState(self.S, self.src, self.dst, self.outptr, self.outidx, self.sgn,
                              self.indeg0)  # fmt: skip
        self.cs = K.CensusState(self.nbptr, self.nblen, self.nb, self.cnt, self.tab)
        K.directed_init(self.g, self.cs, self.track)
        self.mutual0 = int(np.count_nonzero(self.S[self.dst, self.src]))
        # denser than half the pairs: propose moves over the complement's (fewer) edges
        self.complement = n <= COMPLEMENT_MAX_N and self.m > n * (n - 1) // 2
        if self.complement:
            ei = np.full((n, n), -1, dtype=np.int64)
            ei[self.src, self.dst] = np.arange(self.m)
            free = self.S == 0
            np.fill_diagonal(free, False)
            csrc, cdst = (np.ascontiguousarray(x, dtype=np.int64) for x in np.nonzero(free))
            coutptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(csrc, minlength=n), out=coutptr[1:])
            self.cx = K.ComplementState(ei, csrc, cdst, coutptr,
                                        np.arange(len(csrc), dtype=np.int64))  # fmt: skip
        else:  # placeholders of the same types, never read
            z = np.zeros(1, dtype=np.int64)
            self.cx = K.ComplementState(np.zeros((1, 1), dtype=np.int64), z, z.copy(), z.copy(),
                                        z.copy())  # fmt: skip
        #: Chain lengths count proposals per edge of the sparser of the graph and its complement.
        self.movable = len(self.cx.csrc) if self.complement else self.m
        self.beta = np.ones(2, dtype=np.float64)
        self.dstate = np.zeros(1, dtype=np.int64)
        self.hist = np.zeros(7, dtype=np.int64)
        self.tilt = K.TiltState(self.beta, self.dstate, self.hist)
        self._start = [x.copy() for x in self._mutable()]
        self.rs = K.rng_state(rng)

    def _mutable(self) -> list[np.ndarray]:
        return [self.S, self.dst, self.nblen, self.nb, self.cnt, self.beta, self.dstate,
                self.cx.EI, self.cx.cdst]  # fmt: skip

    def reset(self) -> None:
        """Back to the start graph (the random stream continues)."""
        for cur, start in zip(self._mutable(), self._start, strict=True):
            cur[...] = start
        if self.track:
            K.rebuild_neighbours(self.S, self.cs)

    def advance(self, per_edge: float) -> int:
        """Propose ``per_edge * m`` moves; return how many were accepted."""
        return self.advance_moves(_moves(per_edge, self.movable))

    def advance_moves(self, n_moves: int) -> int:
        """Propose ``n_moves`` moves; return how many were accepted."""
        return int(K.directed_moves(self.g, self.cs, self.cx, self.tilt, self.track,
                                    self.keep_mutual, self.complement, TRIANGLE_MOVE_P, n_moves,
                                    self.rs))  # fmt: skip

    def burn(self, per_edge: float) -> None:
        """Run the burn-in of ``per_edge`` proposals per edge.

        With keep_mutual, also tune the tilt so that the chain spends a good share of its time
        at the start's mutual-dyad count (ten rounds, each resetting the tilt of a side from the
        ratio of the time spent one step off to the time spent on it).
        """
        if not self.keep_mutual:
            self.advance(per_edge)
            return
        rounds = 10
        for _ in range(rounds):
            self.hist[:] = 0
            self.advance(per_edge / rounds)
            h0 = self.hist[3]
            for side, h1 in ((0, self.hist[4]), (1, self.hist[2])):
                if h0 > 0 and h1 > 0:
                    # target: half as much time one step off as on the start's count
                    self.beta[side] = min(30.0, max(0.5, self.beta[side] + np.log(2.0 * h1 / h0)))
                elif h0 == 0 and h1 > 0:
                    self.beta[side] = min(30.0, self.beta[side] + 1.0)

    def next_sample(self, per_edge: float) -> None:
        """Advance to the next sample.

        Advance by ``per_edge`` proposals per edge, repeated (keep_mutual) until the chain is at
        the start's mutual-dyad count on one of these grid times.
        """
        moves = _moves(per_edge, self.movable)
        if self.keep_mutual and moves == 0 and self.dstate[0] != 0:
            moves = 1  # no moves could never reach the slice (as in the compiled sampler)
        for _ in range(100_000):
            self.advance_moves(moves)
            if not self.keep_mutual or self.dstate[0] == 0:
                return
        raise RuntimeError(  # pragma: no cover - the tilt keeps the chain near the slice
            "the mutual-preserving switching chain did not return to the start's mutual-dyad "
            "count; use keep_mutual=False"
        )

    def census_samples(self, n: int, thin: float) -> np.ndarray:
        """Return ``n`` rows of the signed triad census of successive samples.

        ``thin`` proposals per edge come before each (more grid steps with keep_mutual, see
        :meth:`next_sample`); the in-degrees and (keep_mutual) the mutual-dyad count are
        checked on every sample.
        """
        if not self.track:
            raise InputError("census_samples needs a chain built with track=True")
        out = np.zeros((n, len(self.cnt)), dtype=np.int64)
        bad = self._samples(thin, False, np.zeros((1, 8, 1), dtype=np.uint64), out)
        if bad >= 0:  # pragma: no cover - an invariant broken is a bug in the kernel
            raise RuntimeError(f"switching sample {bad} broke the degree or mutual-dyad invariant")
        return out

    def _samples(self, thin: float, bits: bool, B: np.ndarray, out: np.ndarray) -> int:
        return int(K.census_samples(self.g, self.cs, self.cx, self.tilt, self.keep_mutual,
                                    self.complement, TRIANGLE_MOVE_P, _moves(thin, self.movable),
                                    self.mutual0, bits, B, out, self.rs))  # fmt: skip

    def sample_weights(self) -> None:
        """Give every source's out-weights a fresh uniform bijection onto its out-edges.

        Done once per sample, after its moves (the samplers here do it themselves): with
        ``signs="travel"`` a sample is a uniform topology with, independently, uniform
        arrangements of each source's weights, which moves alone do not reach where a source's
        out-edges cannot move.
        """
        K.shuffle_out_weights(self.g, self.cs, self.cx, self.track, self.complement, self.rs)

    def bit_census_samples(self, n: int, thin: float, first_thin: float | None = None) -> np.ndarray:
        """Return ``n`` rows of the triad census and signed FFL sums of successive samples.

        The chain runs without bookkeeping and each sample is recounted over neighbour bitsets
        (``_kernels.census_row``: 16 classes in TRIAD_CODES order, then the signed FFL sums
        in ALL_FFL_CLASSES order). Same samples as :meth:`census_samples`; ``first_thin``
        (default ``thin``) proposals per edge come before the first sample.
        """
        if self.track:
            raise InputError("bit_census_samples needs a chain built with track=False")
        out = np.zeros((n, K.ROW), dtype=np.int64)
        if n == 0:
            return out
        B = np.zeros((self.n, 8, K.words(self.n)), dtype=np.uint64)
        for rows, t in ((out[:1], thin if first_thin is None else first_thin), (out[1:], thin)):
            bad = self._samples(t, True, B, rows)
            if bad >= 0:  # pragma: no cover - an invariant broken is a bug in the kernel
                raise RuntimeError(
                    f"switching sample {bad} broke the degree or mutual-dyad invariant"
                )
        return out

    def bitsets_pay(self) -> bool:
        """Whether a bitset recount per sample beats the move-by-move census update.

        A recount costs about 5 m W word operations (W = 64-bit words per node set), an
        update about 8 d m neighbour visits per sample (d = mean number of neighbours).
        """
        mean_deg = 2.0 * self.m / max(self.n, 1)
        return K.words(self.n) <= 2.0 * max(mean_deg, 1.0)

    def set_tracking(self, on: bool) -> None:
        """Switch incremental census tracking on (recounting the current state) or off."""
        if on and not self.track:
            from sparsetopo.analysis.triads import signed_triad_census, signed_triad_keys

            c = signed_triad_census(self.graph("travel", np.random.default_rng(0))).triads
            self.cnt[:] = [c[k] for k in signed_triad_keys()]
            K.rebuild_neighbours(self.S, self.cs)
        self.track = bool(on)

    def check(self, sample: bool = True) -> None:
        """Check the chain's invariants.

        Raise RuntimeError unless the in-degrees are intact and the tracked mutual-dyad offset
        is the true one (and, for a ``sample`` with keep_mutual, zero).
        """
        indeg = np.bincount(self.dst, minlength=self.n)
        mutual = int(np.count_nonzero(self.S[self.dst, self.src])) // 2
        offset = mutual - self.mutual0 // 2
        bad = not np.array_equal(indeg, self.indeg0)
        if self.keep_mutual:
            bad |= offset != int(self.dstate[0]) or (sample and offset != 0)
        if bad:
            raise RuntimeError("switching chain broke the degree or mutual-dyad invariant")

    def sign_matrix(self) -> np.ndarray:
        """Dense float32 sign matrix of the current state without self-loops (+1, -1, 0)."""
        s = self.S.astype(np.float32)
        s[self.S == 2] = -1.0
        return s

    def graph(self, signs: str, rng: np.random.Generator) -> SignedGraph:
        """Return the current state as a SignedGraph (signs "travel" or "shuffle")."""
        w = self.w
        ls, ld, lw = self.loops
        if signs == "shuffle":
            allw = np.concatenate([w, lw])
            allw = np.abs(allw) * rng.permutation(np.sign(allw))
            w, lw = allw[: self.m], allw[self.m :]
        s = np.concatenate([self.src, ls])
        d = np.concatenate([self.dst, ld])
        return SignedGraph(_csr_from_coo(s, d, np.concatenate([w, lw]), (self.n, self.n), "sample"))


def switching_samples(
    g: SignedGraph,
    n: int,
    seed: int | np.random.Generator | None = None,
    keep_mutual: bool = False,
    signs: str = "travel",
    burn_in: float = DEFAULT_BURN_IN,
    thin: float = DEFAULT_THIN,
    independent: bool = False,
) -> Iterator[SignedGraph]:
    """Yield ``n`` degree-preserving randomisations of ``g`` from one Markov chain.

    With ``independent``, every sample comes from its own chain instead.

    Parameters
    ----------
    g : SignedGraph
        The graph to randomise.
    n : int
        Number of samples.
    seed : int, Generator or None
        Random source (seeded calls are reproducible).
    keep_mutual : bool
        Also keep the number of mutual dyads (FANMOD's "bidirectional edges constant", the
        setting of Zhang et al. 2023).
    signs : {"travel", "shuffle"}
        "travel": every edge keeps its source and its weight, so each source keeps the multiset
        of its out-weights (the balance-guided swaps of Zhang et al. 2023); "shuffle": the
        weights' signs are permuted over all edges of every sample.
    burn_in, thin : float
        Proposals per movable edge before the first sample and between samples.
    independent : bool
        Every sample from its own chain started at ``g`` (``burn_in`` proposals per edge each;
        with keep_mutual the first grid time, ``thin`` apart, at the start's mutual count).

    Yields
    ------
    SignedGraph
        Samples; their in- and out-degrees (and mutual count) are checked.

    Raises
    ------
    InputError
        If ``g`` is not a SignedGraph, is too large for the dense state, ``signs`` is unknown,
        ``n`` is negative or a chain length is negative.

    Notes
    -----
    Distribution sampled (stationary distribution of the chain): uniform over the directed
    graphs on the same nodes with the same in- and out-degree of every node, the same
    self-loops and no new self-loop (and, with ``keep_mutual``, the same number of mutual
    dyads). With ``signs="travel"`` the out-weights of each source are, in addition, assigned to
    its out-edges by a uniform random bijection, so every signed graph with the same per-source
    counts of positive and negative out-edges is equally likely; with ``"shuffle"`` the sign
    vector is a uniform permutation, independent of the topology.

    Moves: double-edge swaps (a->b, c->d) -> (a->d, c->b) and reversals of directed 3-cycles
    (swaps alone cannot turn a 3-cycle into its reverse; Rao, Jana, Bandyopadhyay 1996), both
    proposed symmetrically and rejected when they would leave the space (Metropolis), so the chain
    is reversible with respect to the uniform distribution. The tests enumerate every graph of
    small cases and check uniformity with chi-square tests over independent chains. Samples
    from one chain are ``thin`` proposals per edge apart; see docs/analysis.md for their
    autocorrelation. Swaps plus triangle reversals connect the realisations of a directed
    degree sequence (Erdos, Miklos, Toroczkai 2010).

    References
    ----------
    .. [1] R. Milo, S. Shen-Orr, S. Itzkovitz, N. Kashtan, D. Chklovskii and U. Alon, "Network
       motifs: simple building blocks of complex networks", Science 298(5594), 824-827 (2002).
       doi:10.1126/science.298.5594.824
    .. [2] A. R. Rao, R. Jana and S. Bandyopadhyay, "A Markov chain Monte Carlo method for
       generating random (0, 1)-matrices with given marginals", Sankhya: The Indian Journal of
       Statistics, Series A 58(2), 225-242 (1996).
    .. [3] P. L. Erdos, I. Miklos and Z. Toroczkai, "A simple Havel-Hakimi type algorithm to
       realize graphical degree sequences of directed graphs", Electronic Journal of
       Combinatorics 17, R66 (2010).
    .. [4] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in sparse
       recurrent neural networks", Communications Physics 6, 243 (2023).
       doi:10.1038/s42005-023-01364-0

    Examples
    --------
    >>> g = SignedGraph.from_edges([0, 1, 2, 3], [1, 2, 3, 0], [1.0, 1.0, 1.0, -1.0])
    >>> [h.n_edges for h in switching_samples(g, 2, seed=0)]
    [4, 4]
    """
    _check_signs(signs)
    if n < 0:
        raise InputError(f"n must be >= 0 (got {n})")
    rng = _rng(seed)
    chain = DirectedChain(g, keep_mutual, False, rng)
    chain.burn(burn_in)
    for i in range(n):
        if independent and i:
            chain.reset()
            chain.burn(burn_in)
        if (i and not independent) or chain.dstate[0] != 0:
            chain.next_sample(thin)
        chain.check()
        chain.sample_weights()
        yield chain.graph(signs, rng)


def switching(
    g: SignedGraph,
    seed: int | np.random.Generator | None = None,
    keep_mutual: bool = False,
    signs: str = "travel",
    swaps_per_edge: float = DEFAULT_BURN_IN,
) -> SignedGraph:
    """Return one degree-preserving randomisation of ``g``.

    Parameters
    ----------
    g : SignedGraph
        The graph to randomise.
    seed : int, Generator or None
        Random source.
    keep_mutual : bool
        Also keep the number of mutual dyads.
    signs : {"travel", "shuffle"}
        How the signs follow the edges (see :func:`switching_samples`).
    swaps_per_edge : float
        Chain length in proposals per movable edge.

    Returns
    -------
    SignedGraph
        One sample, from a chain of ``swaps_per_edge`` proposals per edge.

    Raises
    ------
    InputError
        As :func:`switching_samples`.

    Notes
    -----
    Distribution sampled: uniform over the directed graphs with the same in- and out-degree of
    every node (and, with ``keep_mutual``, the same number of mutual dyads); details in
    :func:`switching_samples`.

    References
    ----------
    .. [1] R. Milo, S. Shen-Orr, S. Itzkovitz, N. Kashtan, D. Chklovskii and U. Alon, "Network
       motifs: simple building blocks of complex networks", Science 298(5594), 824-827 (2002).
       doi:10.1126/science.298.5594.824

    Examples
    --------
    >>> g = SignedGraph.from_edges([0, 1, 2, 3], [1, 2, 3, 0], [1.0, 1.0, 1.0, -1.0])
    >>> h = switching(g, seed=1)
    >>> h.n_edges, sorted(h.adj.getnnz(axis=1).tolist())
    (4, [1, 1, 1, 1])
    """
    return next(switching_samples(g, 1, seed, keep_mutual, signs, burn_in=swaps_per_edge,
                                  thin=swaps_per_edge))


def switching_census_samples(
    g: SignedGraph,
    n: int,
    seed: int | np.random.Generator | None = None,
    keep_mutual: bool = False,
    burn_in: float = DEFAULT_BURN_IN,
    thin: float = DEFAULT_THIN,
) -> np.ndarray:
    """Return the signed triad census of ``n`` samples of :func:`switching_samples`.

    The census (signs "travel") is maintained incrementally move by move instead of recounted.

    Parameters
    ----------
    g : SignedGraph
        The graph to randomise.
    n : int
        Number of samples.
    seed : int, Generator or None
        Random source.
    keep_mutual : bool
        Also keep the number of mutual dyads.
    burn_in, thin : float
        Proposals per movable edge before the first sample and between samples.

    Returns
    -------
    numpy.ndarray
        ``(n, len(signed_triad_keys()))`` integer counts, columns in the order of
        :func:`~sparsetopo.analysis.signed_triad_keys`. For the same seed the samples are the
        graphs :func:`switching_samples` yields.

    Raises
    ------
    InputError
        If ``n`` is negative or ``g`` is not a SignedGraph small enough for the dense state.

    Notes
    -----
    Distribution sampled: that of :func:`switching_samples` with ``signs="travel"``.
    """
    if n < 0:
        raise InputError(f"n must be >= 0 (got {n})")
    rng = _rng(seed)
    chain = DirectedChain(g, keep_mutual, True, rng)
    chain.burn(burn_in)
    if n == 0:
        return np.zeros((0, len(chain.cnt)), dtype=np.int64)
    first = chain.census_samples(1, 0.0 if chain.dstate[0] == 0 else thin)
    rest = chain.census_samples(n - 1, thin)
    return np.concatenate([first, rest])


# ============================================================================ layered chains
class _LayerState:
    def __init__(self, m: sp.csr_matrix) -> None:
        if m.shape[0] * m.shape[1] > DENSE_MAX_CELLS:
            raise InputError(
                f"a layer of shape {m.shape} is too large for the layer chains "
                f"(at most {DENSE_MAX_CELLS} cells)"
            )
        coo = m.tocoo()
        self.shape = m.shape
        self.src = np.ascontiguousarray(coo.row, dtype=np.int64)
        self.dst = np.ascontiguousarray(coo.col, dtype=np.int64)
        self.w = coo.data.copy()
        self.M = np.zeros(m.shape, dtype=np.int8)
        self.M[self.src, self.dst] = 1
        self._start = (self.src.copy(), self.dst.copy(), self.M.copy())

    def reset(self) -> None:
        self.src[:], self.dst[:], self.M[...] = self._start

    def matrix(self, w: np.ndarray) -> sp.csr_matrix:
        return _csr_from_coo(self.src, self.dst, w, self.shape, "sample")


def layer_switching_samples(
    lg: LayeredGraph,
    n: int,
    seed: int | np.random.Generator | None = None,
    signs: str = "travel",
    burn_in: float = DEFAULT_BURN_IN,
    thin: float = DEFAULT_THIN,
    independent: bool = False,
) -> Iterator[LayeredGraph]:
    """Yield ``n`` randomisations of a layered graph by double-edge swaps inside each layer.

    Parameters
    ----------
    lg : LayeredGraph
        The network.
    n : int
        Number of samples.
    seed : int, Generator or None
        Random source.
    signs : {"travel", "shuffle"}
        "travel": each edge keeps its source and weight; "shuffle": signs permuted per layer.
    burn_in, thin : float
        Proposals per edge (per layer) before the first sample and between samples.
    independent : bool
        Every sample from its own chain started at ``lg`` (``burn_in`` each).

    Yields
    ------
    LayeredGraph
        Samples with every neuron's in- and out-degree kept in every layer.

    Raises
    ------
    InputError
        If ``lg`` is not a LayeredGraph, a layer is too large for the dense state, ``signs`` is
        unknown or a chain length is negative.

    Notes
    -----
    Distribution sampled: the layers are independent; each is uniform over the bipartite graphs
    with the same degree of every source and target (double-edge swaps connect this space,
    Ryser 1957, and the symmetric Metropolis chain is uniform on it). With ``signs="travel"``
    the out-weights of each source are assigned to its out-edges by a uniform bijection; with
    ``"shuffle"`` the layer's sign vector is a uniform permutation.

    References
    ----------
    .. [1] R. Milo, S. Shen-Orr, S. Itzkovitz, N. Kashtan, D. Chklovskii and U. Alon, "Network
       motifs: simple building blocks of complex networks", Science 298(5594), 824-827 (2002).
       doi:10.1126/science.298.5594.824
    .. [2] A. R. Rao, R. Jana and S. Bandyopadhyay, "A Markov chain Monte Carlo method for
       generating random (0, 1)-matrices with given marginals", Sankhya: The Indian Journal of
       Statistics, Series A 58(2), 225-242 (1996).
    """
    _check_signs(signs)
    if not isinstance(lg, LayeredGraph):
        raise InputError(f"layer_switching needs a LayeredGraph (got {type(lg).__name__})")
    rng = _rng(seed)
    states = [_LayerState(m) for m in lg.layers]
    rs = K.rng_state(rng)
    for i in range(n):
        if i == 0 or independent:
            for st in states:
                if i:
                    st.reset()
                K.bipartite_swaps(st.M, st.src, st.dst, _moves(burn_in, len(st.src)), rs)
        else:
            for st in states:
                K.bipartite_swaps(st.M, st.src, st.dst, _moves(thin, len(st.src)), rs)
        mats = []
        for st in states:
            w = st.w if signs == "travel" else np.abs(st.w) * rng.permutation(np.sign(st.w))
            mats.append(st.matrix(w))
        yield LayeredGraph(tuple(mats), lg.biases)


def layer_census_samples(
    lg: LayeredGraph,
    n: int,
    seed: int | np.random.Generator | None = None,
    burn_in: float = DEFAULT_BURN_IN,
    thin: float = DEFAULT_THIN,
    independent: bool = False,
) -> np.ndarray:
    """Return the layered motif counts of ``n`` samples of :func:`layer_switching_samples`.

    The samples (signs "travel") are counted in place, without building sample graphs, over
    neighbour bitsets: the nine :data:`~sparsetopo.analysis.layered.LAYERED_MOTIFS` counts,
    then the balanced and the total bi-parallels of :func:`~sparsetopo.analysis.cycle4_balance`,
    all after ghost/dead removal (the defaults of those functions).

    Parameters
    ----------
    lg : LayeredGraph
        The network.
    n : int
        Number of samples.
    seed : int, Generator or None
        Random source; the same seed gives the samples :func:`layer_switching_samples` yields.
    burn_in, thin : float
        Proposals per edge (per layer) before the first sample and between samples.
    independent : bool
        Every sample from its own chain started at ``lg``.

    Returns
    -------
    numpy.ndarray
        ``(n, 11)`` integer counts.

    Raises
    ------
    InputError
        If ``n`` is negative, ``lg`` is not a LayeredGraph or a layer is too large.

    Notes
    -----
    Distribution sampled: that of :func:`layer_switching_samples` with ``signs="travel"``.
    """
    if n < 0:
        raise InputError(f"n must be >= 0 (got {n})")
    if not isinstance(lg, LayeredGraph):
        raise InputError(f"layer_switching needs a LayeredGraph (got {type(lg).__name__})")
    rng = _rng(seed)
    states = [_LayerState(m) for m in lg.layers]
    rs = K.rng_state(rng)
    # one (src, dst) int32 array for all layers and bit rows of every layer's adjacency: the
    # swaps of _kernels.bipartite_swaps, move for move and draw for draw, on a layout that
    # stays in cache (_sparse_kernels.layer_swaps; decision 0021)
    eptr = np.zeros(len(states) + 1, dtype=np.int64)
    np.cumsum([len(st.src) for st in states], out=eptr[1:])
    edges = np.zeros((int(eptr[-1]), 2), dtype=np.int32)
    for k, st in enumerate(states):
        edges[eptr[k] : eptr[k + 1], 0] = st.src
        edges[eptr[k] : eptr[k + 1], 1] = st.dst
    pos = np.concatenate([st.w > 0 for st in states]) if states else np.zeros(0, dtype=bool)
    row0 = np.zeros(len(states) + 1, dtype=np.int64)
    np.cumsum([st.shape[0] for st in states], out=row0[1:])
    wl = SK.words(max((st.shape[1] for st in states), default=1))
    bits = np.zeros((int(row0[-1]), wl), dtype=np.uint64)
    for k, st in enumerate(states):
        rows = row0[k] + st.src
        np.bitwise_or.at(bits, (rows, st.dst >> 6), np.left_shift(np.uint64(1), (st.dst & 63).astype(np.uint64)))
    start = (edges.copy(), bits.copy())
    burn = np.array([_moves(burn_in, len(st.src)) for st in states], dtype=np.int64)
    step = np.array([_moves(thin, len(st.src)) for st in states], dtype=np.int64)
    src, dst = edges[:, 0], edges[:, 1]
    sizes = np.asarray(lg.sizes, dtype=np.int64)
    offs = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offs[1:])
    w = K.words(int(sizes.max()))
    op, on, ip, inn = (np.zeros((int(offs[-1]), w), dtype=np.uint64) for _ in range(4))
    masks = np.zeros((len(sizes), w), dtype=np.uint64)
    live = np.ones(int(offs[-1]), dtype=np.bool_)
    reach = np.zeros(w, dtype=np.uint64)
    out = np.zeros((n, LC.LAYERED_ROW), dtype=np.int64)
    for i in range(n):
        if i == 0 or independent:
            if i:
                edges[...], bits[...] = start
            SK.layer_swaps(bits, row0, edges, eptr, burn, rs)
        else:
            SK.layer_swaps(bits, row0, edges, eptr, step, rs)
        LC.layered_row(sizes, offs, eptr, src, dst, pos, op, on, ip, inn, masks, live, reach, out[i])
    return out


def layered_counts(lg: LayeredGraph) -> dict[str, int]:
    """Return the layered motif counts and the bi-parallel balance of ``lg`` in one bitset pass.

    Parameters
    ----------
    lg : LayeredGraph
        The network (every layer at most ``DENSE_MAX_CELLS`` cells).

    Returns
    -------
    dict of str to int
        The :data:`~sparsetopo.analysis.layered.LAYERED_MOTIFS` counts of
        :func:`~sparsetopo.analysis.layered_motifs`, then ``cycle4_balanced`` and
        ``cycle4_total`` of :func:`~sparsetopo.analysis.cycle4_balance` (both after ghost/dead
        removal, their defaults): the unsampled row of :func:`layer_census_samples`.

    Examples
    --------
    >>> c = layered_counts(LayeredGraph.from_matrices([np.ones((2, 3)), -np.ones((3, 2))]))
    >>> c["edge"], c["bifan"], c["cycle4_balanced"], c["cycle4_total"]
    (12, 6, 12, 12)
    """
    row = layer_census_samples(lg, 1, np.random.default_rng(0), burn_in=0.0)[0]
    names = (*LAYERED_MOTIFS, "cycle4_balanced", "cycle4_total")
    return {k: int(v) for k, v in zip(names, row.tolist(), strict=True)}


def layer_switching(
    lg: LayeredGraph,
    seed: int | np.random.Generator | None = None,
    signs: str = "travel",
    swaps_per_edge: float = DEFAULT_BURN_IN,
) -> LayeredGraph:
    """Return one randomisation of ``lg`` by degree-preserving swaps within each layer.

    Parameters
    ----------
    lg : LayeredGraph
        The network.
    seed : int, Generator or None
        Random source.
    signs : {"travel", "shuffle"}
        How the signs follow the edges (see :func:`layer_switching_samples`).
    swaps_per_edge : float
        Chain length in proposals per edge of each layer.

    Returns
    -------
    LayeredGraph
        One sample.

    Raises
    ------
    InputError
        As :func:`layer_switching_samples`.

    Notes
    -----
    Distribution sampled: each layer independently uniform over the bipartite graphs with the
    same degree of every source and target (see :func:`layer_switching_samples`).
    """
    return next(layer_switching_samples(lg, 1, seed, signs, burn_in=swaps_per_edge))


def zahn_samples(
    lg: LayeredGraph,
    n: int,
    seed: int | np.random.Generator | None = None,
    burn_in: float = DEFAULT_BURN_IN,
    thin: float = DEFAULT_THIN,
    independent: bool = False,
) -> Iterator[LayeredGraph]:
    """Yield ``n`` samples of the Zahn, Daniel, Kutz 2024 null network of ``lg`` from one chain.

    With ``independent``, every sample comes from its own chain instead.

    Parameters
    ----------
    lg : LayeredGraph
        The network; its ghost and dead neurons are removed first.
    n : int
        Number of samples.
    seed : int, Generator or None
        Random source.
    burn_in, thin : float
        Proposals per edge (per layer) before the first sample and between samples.
    independent : bool
        Every sample from its own chain started at the pruned ``lg`` (``burn_in`` each).

    Yields
    ------
    LayeredGraph
        Samples with the same live neurons and number of edges per layer, every live neuron
        keeping an input (unless in the input layer) and an output (unless in the output layer).

    Raises
    ------
    InputError
        If ``lg`` is not a LayeredGraph, a layer is too large for the dense state or a chain
        length is negative.

    Notes
    -----
    Distribution sampled: the layers are independent; each is uniform over the edge sets of
    the layer's size between its live sources and live targets that give every live source an
    edge and every live target an edge; the layer's weights are assigned to the edges by a
    uniform random permutation. The chain starts at the (pruned) network itself and mixes
    double-edge swaps with single-edge relocations, both symmetric, rejecting any move that
    would leave a live neuron without an edge; the tests enumerate 2-3-2 and 3-3-3 stacks and
    check uniformity.

    References
    ----------
    .. [1] O. T. Zahn, T. L. Daniel and J. N. Kutz, "Motif distribution and function of sparse
       deep neural networks", arXiv:2403.00974 (2024). doi:10.48550/arXiv.2403.00974
    """
    if not isinstance(lg, LayeredGraph):
        raise InputError(f"zahn_null needs a LayeredGraph (got {type(lg).__name__})")
    rng = _rng(seed)
    live = live_neurons(lg)
    pruned = prune_ghost_dead(lg)
    states = [_LayerState(m) for m in pruned.layers]
    extra = []
    for i, st in enumerate(states):
        s_live = np.flatnonzero(live[i]).astype(np.int64)
        t_live = np.flatnonzero(live[i + 1]).astype(np.int64)
        outdeg = np.bincount(st.src, minlength=st.shape[0]).astype(np.int64)
        indeg = np.bincount(st.dst, minlength=st.shape[1]).astype(np.int64)
        extra.append((outdeg, indeg, s_live, t_live))
    start_deg = [(od.copy(), idg.copy()) for od, idg, _, _ in extra]
    rs = K.rng_state(rng)

    def step(per_edge: float) -> None:
        for st, (od, idg, sl, tl) in zip(states, extra, strict=True):
            if len(st.src):
                K.zahn_moves(st.M, st.src, st.dst, od, idg, sl, tl,
                             _moves(per_edge, len(st.src)), rs)  # fmt: skip

    for i in range(n):
        if i == 0 or independent:
            if i:
                for st, (od, idg, _, _), (od0, idg0) in zip(states, extra, start_deg, strict=True):
                    st.reset()
                    od[:], idg[:] = od0, idg0
            step(burn_in)
        else:
            step(thin)
        mats = [st.matrix(rng.permutation(st.w)) for st in states]
        yield LayeredGraph(tuple(mats), lg.biases)


def zahn_null(
    lg: LayeredGraph, seed: int | np.random.Generator | None = None,
    burn_in: float = DEFAULT_BURN_IN,
) -> LayeredGraph:  # fmt: skip
    """Return one Zahn, Daniel, Kutz 2024 null network of ``lg``.

    Parameters
    ----------
    lg : LayeredGraph
        The network; its ghost and dead neurons are removed first.
    seed : int, Generator or None
        Random source.
    burn_in : float
        Chain length in proposals per edge of each layer.

    Returns
    -------
    LayeredGraph
        One sample.

    Raises
    ------
    InputError
        If ``lg`` is not a LayeredGraph.

    Notes
    -----
    Distribution sampled: each layer independently uniform over the edge sets of the layer's
    size that give every live source and live target an edge (see :func:`zahn_samples`).

    References
    ----------
    .. [1] O. T. Zahn, T. L. Daniel and J. N. Kutz, "Motif distribution and function of sparse
       deep neural networks", arXiv:2403.00974 (2024). doi:10.48550/arXiv.2403.00974

    Examples
    --------
    >>> import numpy as np
    >>> lg = LayeredGraph.from_matrices([np.eye(3), np.ones((3, 2))])
    >>> zahn_null(lg, seed=0).n_edges
    9
    """
    return next(zahn_samples(lg, 1, seed, burn_in=burn_in))
