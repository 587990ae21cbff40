"""Every null model samples the distribution its docstring states (issue 16).

Each test enumerates every graph of a tiny case by brute force (independently of the samplers),
draws many independent samples with a fixed seed and checks that (1) no sample is outside the
enumerated space, (2) every graph of the space is reached, (3) the frequencies are uniform by a
chi-square test. Sample counts give about 30 expected hits per graph: the pre-issue-16 samplers
fail these tests by a wide margin (never reaching the graphs with a mutual dyad, or chi-square
p ~ 1e-83), a correct sampler fails with probability below 1e-6 per test.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np
import pytest
from scipy.stats import chisquare

from sparsetopo.analysis import LayeredGraph, SignedGraph, live_neurons, prune_ghost_dead
from sparsetopo.analysis.nulls import (
    layer_switching_samples,
    sign_shuffle,
    switching_samples,
    zahn_samples,
)

P_MIN = 1e-6
PER_CELL = 30

Edge = tuple[int, int]


# ----------------------------------------------------------------------------- enumeration
def directed_space(n: int, edges: Iterable[Edge]) -> list[frozenset[Edge]]:
    """Every loopless directed edge set on n nodes with the in/out degrees of ``edges``'s
    non-loop part (brute force over each node's out-neighbour set)."""
    es = [(u, v) for u, v in edges if u != v]
    outdeg = Counter(u for u, _ in es)
    indeg = [sum(1 for _, v in es if v == x) for x in range(n)]
    choices = [
        [frozenset((u, v) for v in c)
         for c in itertools.combinations([v for v in range(n) if v != u], outdeg[u])]
        for u in range(n)
    ]  # fmt: skip
    out = []
    for combo in itertools.product(*choices):
        e = frozenset().union(*combo)
        if [sum(1 for _, v in e if v == x) for x in range(n)] == indeg:
            out.append(e)
    return out


def mutual(e: frozenset[Edge]) -> int:
    return sum(1 for u, v in e if (v, u) in e) // 2


def bipartite_space(n_in: int, n_out: int, edges: Iterable[Edge]) -> list[frozenset[Edge]]:
    es = list(edges)
    outdeg = Counter(u for u, _ in es)
    indeg = [sum(1 for _, v in es if v == x) for x in range(n_out)]
    choices = [[frozenset((u, v) for v in c) for c in itertools.combinations(range(n_out), outdeg[u])]
               for u in range(n_in)]  # fmt: skip
    out = []
    for combo in itertools.product(*choices):
        e = frozenset().union(*combo)
        if [sum(1 for _, v in e if v == x) for x in range(n_out)] == indeg:
            out.append(e)
    return out


def cover_space(srcs: list[int], dsts: list[int], k: int) -> list[frozenset[Edge]]:
    """Edge sets of size k between srcs and dsts touching every one of them."""
    pairs = [(u, v) for u in srcs for v in dsts]
    out = []
    for c in itertools.combinations(pairs, k):
        if {u for u, _ in c} == set(srcs) and {v for _, v in c} == set(dsts):
            out.append(frozenset(c))
    return out


def check_uniform(samples: list, space: list) -> None:  # type: ignore[type-arg]
    """Every sample in the space, every element of the space hit, chi-square uniform."""
    allowed = set(space)
    assert len(allowed) == len(space)
    counts = Counter(samples)
    outside = [s for s in counts if s not in allowed]
    assert not outside, f"{len(outside)} sampled graphs are outside the space, e.g. {outside[0]}"
    missing = len(allowed) - len(counts)
    assert missing == 0, f"{missing} of {len(allowed)} graphs never sampled"
    obs = np.array([counts[s] for s in space])
    p = chisquare(obs).pvalue
    assert p > P_MIN, f"chi-square p = {p:.2g} (counts {obs.min()}..{obs.max()})"


def directed_key(h: SignedGraph, signed: bool = False) -> frozenset:  # type: ignore[type-arg]
    coo = h.adj.tocoo()
    keep = coo.row != coo.col
    if signed:
        return frozenset(zip(coo.row[keep].tolist(), coo.col[keep].tolist(),
                             np.sign(coo.data[keep]).astype(int).tolist(), strict=True))  # fmt: skip
    return frozenset(zip(coo.row[keep].tolist(), coo.col[keep].tolist(), strict=True))


def graph(n: int, edges: list[Edge], w: list[float] | None = None) -> SignedGraph:
    s, d = zip(*edges, strict=True)
    return SignedGraph.from_edges(list(s), list(d), w or [1.0] * len(edges), n_nodes=n)


# ----------------------------------------------------------------------------- directed
TWO_TRIANGLES = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)]
# 5 nodes, a mutual dyad 0<->1, self-loops at 1 and 3 (fixed, never created)
WITH_LOOPS = [(0, 1), (1, 0), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2), (1, 1), (3, 3)]


@pytest.mark.slow  # 1-2 s per case
@pytest.mark.parametrize(
    ("n", "edges", "keep_mutual"),
    [(6, TWO_TRIANGLES, False), (6, TWO_TRIANGLES, True), (5, WITH_LOOPS, False),
     (5, WITH_LOOPS, True)],
)  # fmt: skip
def test_switching_uniform(n: int, edges: list[Edge], keep_mutual: bool) -> None:
    g = graph(n, edges)
    space = directed_space(n, edges)
    if keep_mutual:
        m0 = mutual(frozenset(e for e in edges if e[0] != e[1]))
        space = [e for e in space if mutual(e) == m0]
    if not keep_mutual and n == 6:
        assert len(space) == 265 and any(mutual(e) for e in space)  # derangements of 6
    n_samples = PER_CELL * len(space)
    samples = [directed_key(h) for h in switching_samples(
        g, n_samples, seed=16, keep_mutual=keep_mutual, burn_in=20, thin=20, independent=True)]
    for h_loops in switching_samples(g, 5, seed=1, keep_mutual=keep_mutual):
        assert sorted(h_loops.adj.diagonal().nonzero()[0].tolist()) == sorted(
            u for u, v in edges if u == v)
    check_uniform(samples, space)


def test_triangle_reaches_its_reverse() -> None:
    g = graph(3, [(0, 1), (1, 2), (2, 0)])
    seen = Counter(directed_key(h) for h in switching_samples(g, 400, seed=2, independent=True))
    assert set(seen) == {frozenset({(0, 1), (1, 2), (2, 0)}), frozenset({(1, 0), (2, 1), (0, 2)})}
    assert chisquare(list(seen.values())).pvalue > P_MIN


@pytest.mark.slow  # ~1 s
def test_switching_signs_travel_uniform() -> None:
    # sources 0 and 1 each have one positive and one negative out-edge: every topology of the
    # space appears with each of the 2 x 2 assignments of those signs, uniformly
    edges = [(0, 1), (1, 0), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)]
    w = [1.0, -1.0, 2.0, 1.0, 1.0, 1.0, -3.0]
    g = graph(5, edges, w)
    space = []
    for e in directed_space(5, edges):
        by_src: dict[int, list[Edge]] = {}
        for u, v in sorted(e):
            by_src.setdefault(u, []).append((u, v))
        fixed = [(u, v, 1) for u, v in e if u not in (0, 1)]
        for s0 in itertools.permutations([1, -1]):
            for s1 in itertools.permutations([1, -1]):
                signed = fixed + [(u, v, s) for (u, v), s in zip(by_src[0], s0, strict=True)]
                signed += [(u, v, s) for (u, v), s in zip(by_src[1], s1, strict=True)]
                space.append(frozenset(signed))
    space = sorted(set(space), key=sorted)
    samples = [directed_key(h, signed=True) for h in switching_samples(
        g, PER_CELL * len(space), seed=5, burn_in=20, independent=True)]
    check_uniform(samples, space)


def test_switching_signs_shuffle_uniform() -> None:
    edges = [(0, 1), (1, 2), (2, 0), (0, 3), (3, 1)]
    g = graph(4, edges, [1.0, -1.0, 1.0, 1.0, -2.0])
    space = []
    for e in directed_space(4, edges):
        es = sorted(e)
        for neg in itertools.combinations(range(len(es)), 2):
            space.append(frozenset((u, v, -1 if i in neg else 1) for i, (u, v) in enumerate(es)))
    samples = [directed_key(h, signed=True) for h in switching_samples(
        g, PER_CELL * len(space), seed=6, signs="shuffle", burn_in=20, independent=True)]
    check_uniform(samples, space)


def test_sign_shuffle_uniform() -> None:
    edges = [(0, 1), (1, 2), (2, 0), (0, 3), (3, 1), (1, 3)]
    g = graph(4, edges, [1.0, -1.0, 1.0, 1.0, -2.0, 3.0])
    space = [frozenset((u, v, -1 if i in neg else 1) for i, (u, v) in enumerate(edges))
             for neg in itertools.combinations(range(6), 2)]  # fmt: skip
    rng = np.random.default_rng(7)
    samples = [directed_key(sign_shuffle(g, rng), signed=True)  # type: ignore[arg-type]
               for _ in range(PER_CELL * len(space))]  # fmt: skip
    check_uniform(samples, space)


# ----------------------------------------------------------------------------- layered
def layered(sizes: list[int], layers: list[list[Edge]]) -> LayeredGraph:
    mats = []
    for i, es in enumerate(layers):
        m = np.zeros((sizes[i], sizes[i + 1]))
        for u, v in es:
            m[u, v] = 1.0 + u + v
        mats.append(m)
    return LayeredGraph.from_matrices(mats)


def layered_key(h: LayeredGraph) -> tuple:  # type: ignore[type-arg]
    return tuple(frozenset(zip(*m.nonzero(), strict=True)) for m in h.layers)


STACK_232 = ([2, 3, 2], [[(0, 0), (0, 1), (1, 1), (1, 2)], [(0, 0), (1, 0), (1, 1), (2, 1)]])
STACK_333 = ([3, 3, 3], [[(0, 0), (0, 1), (1, 1), (2, 2), (1, 2)], [(0, 0), (1, 1), (2, 2), (2, 0)]])


@pytest.mark.parametrize("case", [STACK_232, STACK_333], ids=["2-3-2", "3-3-3"])
def test_layer_switching_uniform(case: tuple[list[int], list[list[Edge]]]) -> None:
    sizes, layers = case
    lg = layered(sizes, layers)
    per_layer = [bipartite_space(sizes[i], sizes[i + 1], es) for i, es in enumerate(layers)]
    space = list(itertools.product(*per_layer))
    samples = [layered_key(h) for h in layer_switching_samples(
        lg, PER_CELL * len(space), seed=3, burn_in=20, independent=True)]
    check_uniform(samples, space)


# 2-3-2: 4 edges in each layer; 3-3-3: 4 edges in layer 0, and output neuron 2 has no input (a
# ghost), so layer 1 places 3 edges between 3 live sources and 2 live targets
ZAHN_232 = ([2, 3, 2], [[(0, 0), (1, 1), (1, 2), (0, 1)], [(0, 0), (1, 1), (2, 1), (2, 0)]])
ZAHN_333 = ([3, 3, 3], [[(0, 0), (1, 1), (2, 2), (0, 1)], [(0, 0), (1, 0), (2, 1)]])


@pytest.mark.slow  # ~1 s per case
@pytest.mark.parametrize("case", [ZAHN_232, ZAHN_333], ids=["2-3-2", "3-3-3"])
def test_zahn_uniform(case: tuple[list[int], list[list[Edge]]]) -> None:
    sizes, layers = case
    lg = layered(sizes, layers)
    live = live_neurons(lg)
    pruned = prune_ghost_dead(lg)
    per_layer = []
    for i, m in enumerate(pruned.layers):
        srcs = np.flatnonzero(live[i]).tolist()
        dsts = np.flatnonzero(live[i + 1]).tolist()
        per_layer.append(cover_space(srcs, dsts, m.nnz))
    space = list(itertools.product(*per_layer))
    assert len(space) in (144, 270)
    samples = [layered_key(h) for h in zahn_samples(
        lg, PER_CELL * len(space), seed=4, burn_in=20, independent=True)]
    check_uniform(samples, space)


# ----------------------------------------------------------------------------- dense graphs
def complement(n: int, edges: list[Edge]) -> list[Edge]:
    """The non-loop pairs missing from ``edges``, plus ``edges``'s self-loops."""
    have = set(edges)
    return [(u, v) for u in range(n) for v in range(n) if u != v and (u, v) not in have] + [
        (u, v) for u, v in edges if u == v]  # fmt: skip


@pytest.mark.slow  # 1-2 s per case
@pytest.mark.parametrize(
    ("n", "edges", "keep_mutual"),
    [(6, TWO_TRIANGLES, False), (6, TWO_TRIANGLES, True), (5, WITH_LOOPS, False),
     (5, WITH_LOOPS, True)],
)  # fmt: skip
def test_switching_uniform_on_dense_graphs(n: int, edges: list[Edge], keep_mutual: bool) -> None:
    # denser than half the pairs: the chain proposes over the complement's edges
    from sparsetopo.analysis.nulls import DirectedChain

    dense = complement(n, edges)
    g = graph(n, dense)
    assert DirectedChain(g, keep_mutual, False, np.random.default_rng(0)).complement
    space = directed_space(n, dense)
    if keep_mutual:
        m0 = mutual(frozenset(e for e in dense if e[0] != e[1]))
        space = [e for e in space if mutual(e) == m0]
    samples = [directed_key(h) for h in switching_samples(
        g, PER_CELL * len(space), seed=17, keep_mutual=keep_mutual, burn_in=20, thin=20,
        independent=True)]  # fmt: skip
    check_uniform(samples, space)


@pytest.mark.slow  # ~4 s: 85,860 independent chains
def test_switching_signs_travel_uniform_on_a_dense_graph() -> None:
    # every source keeps the multiset of its out-signs; each topology appears with every
    # arrangement of them, uniformly
    edges = complement(5, [(0, 1), (1, 0), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)])
    rng = np.random.default_rng(3)
    w = [float(x) for x in rng.choice([-1.0, 1.0], size=len(edges))]
    w[0], w[1] = 1.0, -1.0  # source 0 mixed
    g = graph(5, edges, w)
    by_src: dict[int, list[int]] = {}
    for (u, _), s in zip(edges, w, strict=True):
        by_src.setdefault(u, []).append(int(np.sign(s)))
    space = []
    for e in directed_space(5, edges):
        outs = {u: sorted(v for x, v in e if x == u) for u in by_src}
        arrangements = [sorted(set(itertools.permutations(by_src[u]))) for u in by_src]
        for combo in itertools.product(*arrangements):
            space.append(frozenset((u, v, s) for u, signs in zip(by_src, combo, strict=True)
                                   for v, s in zip(outs[u], signs, strict=True)))  # fmt: skip
    assert len(space) > 50
    # 2,862 graphs x 30 samples: the chain costs ~3 s, building a SignedGraph per sample and
    # keying it through scipy ~40 s. So the samples are read from the chain's state in the loop
    # of switching_samples(independent=True): the same random stream, hence the same 85,860
    # samples and the same test power, as the first ones drawn through switching_samples show.
    n_samples = PER_CELL * len(space)
    samples = list(itertools.islice(_independent_signed_keys(g, seed=8, burn_in=20), n_samples))
    via_api = [directed_key(h, signed=True) for h in switching_samples(
        g, 200, seed=8, burn_in=20, independent=True)]  # fmt: skip
    assert samples[:200] == via_api
    check_uniform(samples, space)


def _independent_signed_keys(g: SignedGraph, seed: int, burn_in: float) -> Iterator[frozenset]:  # type: ignore[type-arg]
    """The signed edge sets of switching_samples(g, seed=seed, burn_in=burn_in, independent=True),
    read from the chain (signs travel, no mutual-dyad constraint) without building graphs."""
    from sparsetopo.analysis.nulls import DirectedChain

    rng = np.random.default_rng(seed)
    chain = DirectedChain(g, False, False, rng)
    chain.burn(burn_in)
    first = True
    while True:
        if not first:
            chain.reset()
            chain.burn(burn_in)
        first = False
        chain.check()
        chain.sample_weights()
        yield frozenset(zip(chain.src.tolist(), chain.dst.tolist(),
                            np.sign(chain.w).astype(int).tolist(), strict=True))  # fmt: skip
