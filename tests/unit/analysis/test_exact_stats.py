"""exact_stats (bitset pass) against brute force, networkx and the separate functions."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from sparsetopo.analysis import SignedGraph, ffl_counts, triangle_balance
from sparsetopo.analysis import exact as exact_mod
from sparsetopo.analysis.exact import exact_stats
from sparsetopo.analysis.fastnull import sign_shuffle_ffl_moments
from sparsetopo.api.pipeline import _signed_balance
from tests.support.extras import requires


def _graph(n: int, p: float, p_mutual: float, seed: int, loops: bool = True,
           cancel: bool = True) -> SignedGraph:  # fmt: skip
    """Random signed digraph with mutual pairs, self-loops and exactly cancelling pairs."""
    rng = np.random.default_rng(seed)
    edges: dict[tuple[int, int], float] = {}
    for a, b in itertools.permutations(range(n), 2):
        if rng.random() < p:
            edges[a, b] = float(rng.choice([-1, 1]) * rng.integers(1, 4))
            if rng.random() < p_mutual:
                w = float(rng.choice([-1, 1]) * rng.integers(1, 4))
                edges[b, a] = -edges[a, b] if cancel and rng.random() < 0.3 else w
    if loops:
        for a in range(n):
            if rng.random() < 0.2:
                edges[a, a] = float(rng.choice([-1.0, 2.0]))
    if not edges:
        return SignedGraph.from_edges(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0),
                                      n_nodes=n)  # fmt: skip
    s, d = zip(*edges, strict=True)
    return SignedGraph.from_edges(list(s), list(d), list(edges.values()), n_nodes=n)


def _brute(g: SignedGraph) -> dict[str, Any]:
    """FFLs by class, balanced FFLs, triangles, and the moments' pair counts by enumeration."""
    nx = requires("networkx")
    s, d, w = g.edges()
    wt = {(a, b): x for a, b, x in zip(s.tolist(), d.tolist(), w.tolist(), strict=True) if a != b}
    n = g.n_nodes
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_edges_from(wt)
    ffls = []
    tot: dict[str, int] = {}
    bal: dict[str, int] = {}
    for i, j, k in itertools.permutations(range(n), 3):
        if (i, j) in wt and (j, k) in wt and (i, k) in wt:
            c = nx.triad_type(G.subgraph([i, j, k]))
            prod = np.sign(wt[i, j]) * np.sign(wt[j, k]) * np.sign(wt[i, k])
            tot[c] = tot.get(c, 0) + 1
            bal[c] = bal.get(c, 0) + int(prod > 0)
            ffls.append(frozenset([(i, j), (j, k), (i, k)]))
    shared = [0, 0, 0]
    for f1, f2 in itertools.permutations(ffls, 2):
        shared[len(f1 & f2)] += 1
    und: dict[tuple[int, int], float] = {}
    for (a, b), x in wt.items():
        key = (min(a, b), max(a, b))
        und[key] = und.get(key, 0.0) + x
    und = {k: v for k, v in und.items() if v != 0}
    n_tri = n_unb = 0
    for a, b, c in itertools.combinations(range(n), 3):
        if (a, b) in und and (a, c) in und and (b, c) in und:
            n_tri += 1
            n_unb += int(und[a, b] * und[a, c] * und[b, c] < 0)
    return dict(census=nx.triadic_census(G), tot=tot, bal=bal, pairs=tuple(shared), tri=n_tri,
                unb=n_unb)  # fmt: skip


CASES = [(0, 0.0, 0.0, 0), (1, 0.5, 0.5, 1), (2, 1.0, 1.0, 2), (3, 1.0, 1.0, 3), (7, 0.4, 0.5, 4),
         (12, 0.3, 0.3, 5), (15, 0.6, 0.8, 6), (10, 1.0, 1.0, 7), (18, 0.15, 0.0, 8),
         (70, 0.1, 0.4, 9)]  # fmt: skip


@pytest.mark.parametrize(("n", "p", "p_mutual", "seed"), CASES)
def test_exact_stats_equal_brute_force(n: int, p: float, p_mutual: float, seed: int) -> None:
    g = _graph(n, p, p_mutual, seed)
    st = exact_stats(g)
    if n > 20:  # enumeration of FFL pairs too slow: the separate functions are the reference
        assert st.ffl == ffl_counts(g, method="dense") == ffl_counts(g, method="sparse")
        assert st.moments == sign_shuffle_ffl_moments(g)
        return
    ref = _brute(g)
    assert st.ffl.census == {k: int(v) for k, v in ref["census"].items()}
    assert sum(st.ffl.census.values()) == math.comb(n, 3)
    assert {c: v for c, v in st.ffl.total.items() if v} == ref["tot"]
    assert {c: v for c, v in st.ffl.balanced.items() if v} == {c: v for c, v in ref["bal"].items() if v}
    assert (st.n_triangles, st.n_unbalanced) == (ref["tri"], ref["unb"])
    m = st.moments
    assert m.ffl == sum(ref["tot"].values())
    if m.ffl:
        assert m.pairs == ref["pairs"]
        assert m.balanced == sum(ref["bal"].values())


@pytest.mark.parametrize(("n", "p", "p_mutual", "seed"), CASES)
def test_exact_stats_equal_separate_functions(n: int, p: float, p_mutual: float, seed: int) -> None:
    g = _graph(n, p, p_mutual, seed)
    st = exact_stats(g)
    assert st.ffl == ffl_counts(g)
    tb = triangle_balance(g)
    assert (st.n_triangles, st.n_unbalanced) == (tb.n_triangles, tb.n_unbalanced)
    frac = st.triangle_unbalanced_fraction
    assert frac == tb.fraction_unbalanced or (math.isnan(frac) and math.isnan(tb.fraction_unbalanced))
    assert st.moments == sign_shuffle_ffl_moments(g)


def test_fallback_beyond_the_bitset_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    g = _graph(15, 0.5, 0.5, 11)
    fast = exact_stats(g)
    monkeypatch.setattr(exact_mod, "BITSET_MAX_BYTES", 0)
    assert exact_stats(g) == fast


def test_more_than_64_nodes_span_words() -> None:
    # nodes 0..199: the bitsets hold four words; edges only between far-apart ids
    rng = np.random.default_rng(3)
    src = rng.integers(0, 200, 3000)
    dst = (src + 64 * rng.integers(1, 3, 3000) + rng.integers(0, 3, 3000)) % 200
    pairs = sorted(set(zip(src.tolist(), dst.tolist(), strict=True)))
    s, d = (np.array(x) for x in zip(*pairs, strict=True))
    g = SignedGraph.from_edges(s, d, rng.choice([-1.0, 1.0], len(s)), n_nodes=200)
    st = exact_stats(g)
    assert st.ffl == ffl_counts(g, method="dense")
    assert st.moments == sign_shuffle_ffl_moments(g)
    tb = triangle_balance(g)
    assert (st.n_triangles, st.n_unbalanced) == (tb.n_triangles, tb.n_unbalanced)


def _old_signed_balance(g: SignedGraph) -> dict[str, Any]:
    """The stored properties as the separate functions computed them before decision 0021."""
    from sparsetopo.analysis.balance import balance_from_counts

    counts = ffl_counts(g)
    pooled, paper = balance_from_counts(counts, "pooled"), balance_from_counts(counts, "paper")
    mom = sign_shuffle_ffl_moments(g)
    props = dict(ffl_balance=pooled.ratio, ffl_balance_paper=paper.ratio,
                 unbalanced_ffl=pooled.unbalanced, ffl_total=pooled.total,
                 triangle_unbalanced_fraction=triangle_balance(g).fraction_unbalanced,
                 ffl_balance_null=mom.ratio_mean,
                 ffl_balance_z=mom.z, ffl_balance_z_null="sign_shuffle:exact")  # fmt: skip
    props.update({f"triad_{c}": v for c, v in counts.census.items()})
    for c, t in counts.total.items():
        props[f"ffl_{c}_total"] = t
        props[f"ffl_{c}_balanced"] = counts.balanced[c]
    return props


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stored_properties_unchanged(seed: int) -> None:
    g = _graph(40, 0.2, 0.3, seed)
    new, old = _signed_balance(g, legacy=False), _old_signed_balance(g)
    assert new.keys() == old.keys()
    for k, v in old.items():
        assert new[k] == v or (isinstance(v, float) and math.isnan(v) and math.isnan(new[k])), k
