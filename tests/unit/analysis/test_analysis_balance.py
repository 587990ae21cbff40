"""FFL balance and triangle balance: hand cases, brute force, fixture regressions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sparsetopo.analysis import (
    SignedGraph,
    ffl_balance,
    motif_zscores,
    paper_preprocess,
    triangle_balance,
)
from sparsetopo.errors import InputError
from tests.support.graphs import load_zhang, random_graph


def g_of(edges: list[tuple[int, int, float]], n: int | None = None) -> SignedGraph:
    s, d, w = zip(*edges, strict=True)
    return SignedGraph.from_edges(list(s), list(d), list(w), n_nodes=n)


def test_single_ffl_balanced_and_unbalanced() -> None:
    ok = ffl_balance(g_of([(0, 1, 1.0), (1, 2, 2.0), (0, 2, 0.5)]))
    assert (ok.ratio, ok.balanced, ok.total, ok.unbalanced) == (1.0, 1, 1, 0)
    assert ok.per_class["030T"] == (1, 1)
    bad = ffl_balance(g_of([(0, 1, 1.0), (1, 2, 2.0), (0, 2, -0.5)]))
    assert (bad.ratio, bad.unbalanced) == (0.0, 1)
    # two negatives on the path and a positive shortcut: product positive -> balanced
    assert ffl_balance(g_of([(0, 1, -1.0), (1, 2, -1.0), (0, 2, 1.0)])).ratio == 1.0


def test_pure_cycle_has_no_ffl() -> None:
    r = ffl_balance(g_of([(0, 1, 1.0), (1, 2, 1.0), (2, 0, -1.0)]))
    assert r.total == 0 and math.isnan(r.ratio)


def test_120u_holds_two_ffls_and_300_six() -> None:
    # 120U: 0 <-> 1, both -> 2
    r = ffl_balance(g_of([(0, 1, 1.0), (1, 0, 1.0), (0, 2, 1.0), (1, 2, -1.0)]))
    assert r.per_class["120U"] == (0, 2)  # both FFLs contain exactly one negative edge
    r = ffl_balance(g_of([(0, 1, 1.0), (1, 0, 1.0), (1, 2, 1.0), (0, 2, 1.0)]), mode="paper")
    assert r.per_class["120U"] == (2, 2) and r.ratio == 1.0
    # 120D: 2 -> 0, 2 -> 1, 0 <-> 1
    r = ffl_balance(g_of([(2, 0, 1.0), (2, 1, 1.0), (0, 1, 1.0), (1, 0, 1.0)]))
    assert r.per_class["120D"] == (2, 2)
    full = [(a, b, 1.0) for a in range(3) for b in range(3) if a != b]
    r = ffl_balance(g_of(full))
    assert r.per_class["300"] == (6, 6)
    # one negative edge in a 300 triad: it lies in 3 of the 6 FFLs (as i->j, j->k or i->k)
    neg = [(a, b, -1.0 if (a, b) == (0, 1) else 1.0) for a, b, _ in full]
    assert ffl_balance(g_of(neg)).per_class["300"] == (3, 6)


def test_paper_mode_is_mean_of_nonzero_class_ratios() -> None:
    # one balanced 030T (BR=1) and one 120U with 0 of 2 balanced (BR=0, dropped), on disjoint nodes
    edges = [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0)]
    edges += [(3, 4, 1.0), (4, 3, 1.0), (3, 5, 1.0), (4, 5, -1.0)]
    g = g_of(edges)
    assert ffl_balance(g, mode="paper").ratio == 1.0  # (1) / 1 class, 120U dropped
    assert ffl_balance(g, mode="pooled").ratio == pytest.approx(1 / 3)
    # add a 030T that is unbalanced: 030T BR = 1/2, 120U still 0 -> paper ratio 0.5
    edges += [(6, 7, 1.0), (7, 8, 1.0), (6, 8, -1.0)]
    assert ffl_balance(g_of(edges), mode="paper").ratio == 0.5


def test_paper_preprocessing_drops_isolated_degree1_and_self_loops() -> None:
    core = [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0), (2, 3, -1.0), (3, 0, 1.0), (1, 3, 1.0)]
    extra = [(4, 0, 1.0), (1, 1, -3.0), (2, 2, 1.0), (5, 6, 1.0)]  # 4, 5, 6 have degree 1
    g = g_of(core + extra, n=9)  # 7, 8 isolated
    h, kept = paper_preprocess(g)
    assert kept.tolist() == [0, 1, 2, 3]
    assert h.n_edges == len(core)
    assert np.all(h.adj.diagonal() == 0)
    for mode in ("pooled", "paper"):
        a = ffl_balance(g, mode=mode, preprocess="paper")
        b = ffl_balance(g_of(core), mode=mode)
        assert (a.ratio, a.per_class) == (b.ratio, b.per_class)


def test_random_signs_give_ratio_near_half() -> None:
    g = random_graph(300, 9000, 5)
    r = ffl_balance(g)
    assert r.total > 5000
    assert abs(r.ratio - 0.5) < 0.05


def test_brute_force_pooled_ratio() -> None:
    g = random_graph(12, 70, 3)
    s, d, w = g.edges()
    sign = {(a, b): np.sign(x) for a, b, x in zip(s, d, w, strict=True)}
    tot = bal = 0
    for i, j, k in itertools.permutations(range(12), 3):
        if (i, j) in sign and (j, k) in sign and (i, k) in sign:
            tot += 1
            bal += int(sign[i, j] * sign[j, k] * sign[i, k] > 0)
    r = ffl_balance(g)
    assert (r.balanced, r.total) == (bal, tot)


def test_bad_modes() -> None:
    g = random_graph(5, 8, 0)
    with pytest.raises(InputError, match="mode"):
        ffl_balance(g, mode="mean")
    with pytest.raises(InputError, match="preprocess"):
        ffl_balance(g, preprocess="zhang")
    with pytest.raises(InputError, match="reciprocal"):
        triangle_balance(g, reciprocal="max")


@pytest.mark.parametrize("reciprocal", ["sum", "multi"])
def test_triangle_balance_brute_force(reciprocal: str) -> None:
    g = random_graph(11, 60, 4)
    s, d, w = g.edges()
    wd = {(a, b): x for a, b, x in zip(s, d, w, strict=True)}
    n = g.n_nodes
    # undirected multi-edges as lists of signs per unordered pair
    pair: dict[tuple[int, int], list[float]] = {}
    for a, b in itertools.combinations(range(n), 2):
        ws = [wd[e] for e in ((a, b), (b, a)) if e in wd]
        if not ws:
            continue
        if reciprocal == "sum":
            t = sum(ws)
            if t != 0:
                pair[(a, b)] = [np.sign(t)]
        else:
            pair[(a, b)] = [np.sign(x) for x in ws]
    tri = unb = 0
    node_unb = np.zeros(n, dtype=int)
    for a, b, c in itertools.combinations(range(n), 3):
        if (a, b) in pair and (b, c) in pair and (a, c) in pair:
            for x, y, z in itertools.product(pair[(a, b)], pair[(b, c)], pair[(a, c)]):
                tri += 1
                if x * y * z < 0:
                    unb += 1
                    node_unb[[a, b, c]] += 1
    r = triangle_balance(g, reciprocal=reciprocal)
    assert (r.n_triangles, r.n_unbalanced) == (tri, unb)
    assert r.node_unbalanced.tolist() == node_unb.tolist()
    assert r.node_share.sum() == pytest.approx(3.0)


def test_triangle_balance_hand_case() -> None:
    # mutual pair 0<->1 with +2 and -1: sum rule gives +; triangle with +,+ elsewhere is balanced
    g = g_of([(0, 1, 2.0), (1, 0, -1.0), (1, 2, 1.0), (0, 2, 1.0)])
    assert triangle_balance(g, "sum").n_unbalanced == 0
    multi = triangle_balance(g, "multi")
    assert (multi.n_triangles, multi.n_unbalanced) == (2, 1)


# ----------------------------------------------------------------- zhang2023 regression values
# Values computed by this package on the published snapshots (epoch 200, 150 units); the
# per-class counts were cross-checked by the brute-force enumeration below.
ZHANG_REGRESSION = {
    "pruning": {"pooled": 0.846, "paper": 0.8967753768173936, "030T": (331, 392)},
    "SET": {"pooled": 0.6335877862595419, "paper": 0.6035218253968254, "030T": (203, 320)},
}


@pytest.mark.parametrize("run", ["pruning", "SET"])
def test_zhang_fixture_regression(run: str) -> None:
    g = load_zhang(run, 200)
    pooled = ffl_balance(g, "pooled")
    paper = ffl_balance(g, "paper", preprocess="paper")
    exp = ZHANG_REGRESSION[run]
    assert pooled.ratio == pytest.approx(exp["pooled"], abs=1e-12)
    assert paper.ratio == pytest.approx(exp["paper"], abs=1e-12)
    assert pooled.per_class["030T"] == exp["030T"]
    # brute-force check of the pooled counts on the real graph
    s, d, w = g.edges()
    out: dict[int, list[tuple[int, float]]] = {}
    sign = {}
    for a, b, x in zip(s.tolist(), d.tolist(), w.tolist(), strict=True):
        if a != b:
            out.setdefault(a, []).append((b, x))
            sign[(a, b)] = x
    tot = bal = 0
    for i, lst in out.items():
        for j, wij in lst:
            for k, wjk in out.get(j, []):
                if k != i and (i, k) in sign:
                    tot += 1
                    bal += int(wij * wjk * sign[(i, k)] > 0)
    assert (pooled.balanced, pooled.total) == (bal, tot)


def test_pruning_more_balanced_than_set_and_null() -> None:
    prune, set_ = load_zhang("pruning", 200), load_zhang("SET", 200)
    assert ffl_balance(prune).ratio > ffl_balance(set_).ratio + 0.15
    assert ffl_balance(prune, "paper").ratio > ffl_balance(set_, "paper").ratio + 0.15
    z = motif_zscores(prune, "ffl_balance", null="sign_shuffle", n=100, seed=1)
    row = z.loc["ffl_balance_pooled"]
    assert row["null_mean"] < 0.56 and row["z"] > 8
    assert row["analytic_mean"] == pytest.approx(row["null_mean"], abs=0.02)
    assert triangle_balance(prune).fraction_unbalanced < triangle_balance(set_).fraction_unbalanced
