"""Fast null statistics equal the slow ones (issue 15): incremental census = full recount after
every move, vectorised samples = per-graph evaluation, exact sign-shuffle moments = enumeration
and Monte Carlo."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from analysis_helpers import load_zhang, random_graph

from sparsetopo.analysis import SignedGraph, ffl_counts, signed_triad_census, signed_triad_keys
from sparsetopo.analysis.fastnull import ffl_triples, sign_shuffle_ffl_moments
from sparsetopo.analysis.nulls import DirectedChain, switching_census_samples, switching_samples
from sparsetopo.analysis.zscores import motif_zscores


def census_vector(g: SignedGraph) -> np.ndarray:
    c = signed_triad_census(g).triads
    return np.array([c[k] for k in signed_triad_keys()])


@pytest.mark.parametrize("keep_mutual", [False, True])
def test_incremental_census_equals_recount_after_every_move(keep_mutual: bool) -> None:
    rng = np.random.default_rng(0)
    g = random_graph(12, 45, 3, self_loops=True)
    assert g.adj.diagonal().any()
    chain = DirectedChain(g, keep_mutual, True, rng)
    assert np.array_equal(chain.cnt, census_vector(g))
    accepted = 0
    for _ in range(400):
        accepted += chain.advance_moves(1)
        h = chain.graph("travel", rng)
        assert np.array_equal(chain.cnt, census_vector(h))
        chain.check(sample=False)
    assert accepted > 50


def test_census_samples_are_the_chain_samples() -> None:
    g = random_graph(25, 120, 4)
    for km in (False, True):
        counts = switching_census_samples(g, 15, seed=8, keep_mutual=km, thin=0.7)
        graphs = list(switching_samples(g, 15, seed=8, keep_mutual=km, thin=0.7))
        assert np.array_equal(counts, np.stack([census_vector(h) for h in graphs]))


def test_fast_zscores_equal_graph_path() -> None:
    g = load_zhang("pruning", 80)
    for null, fams, opts in (
        ("switching", ["triads", "ffl_balance"], {"thin": 0.3, "burn_in": 2.0}),
        ("switching", ["signed_triads"], {"keep_mutual": True, "thin": 0.3, "burn_in": 2.0}),
        ("sign_shuffle", ["triads", "ffl_balance"], {}),
    ):
        a = motif_zscores(g, fams, null=null, n=12, seed=3, **opts)
        b = motif_zscores(g, fams, null=null, n=12, seed=3, fast=False, **opts)
        pd.testing.assert_frame_equal(a, b)


def test_ffl_triples_match_counts() -> None:
    g = random_graph(30, 260, 5, self_loops=True)
    t = ffl_triples(g)
    f = ffl_counts(g)
    from sparsetopo.analysis.balance import ALL_FFL_CLASSES

    assert [int((t.cls == i).sum()) for i in range(6)] == [f.total[c] for c in ALL_FFL_CLASSES]
    prod = np.prod(np.sign(g.adj.data)[t.edges], axis=1)
    assert [int(((t.cls == i) & (prod > 0)).sum()) for i in range(6)] == [
        f.balanced[c] for c in ALL_FFL_CLASSES]


def _brute_ffls(g: SignedGraph) -> list[tuple[int, int, int]]:
    coo = g.adj.tocoo()
    idx = {(u, v): i for i, (u, v) in enumerate(zip(coo.row.tolist(), coo.col.tolist(), strict=True))}
    out = []
    for i, j, k in itertools.permutations(range(g.n_nodes), 3):
        if (i, j) in idx and (j, k) in idx and (i, k) in idx:
            out.append((idx[(i, j)], idx[(j, k)], idx[(i, k)]))
    return out


def test_exact_moments_equal_full_enumeration() -> None:
    # 9 edges with 3 mutual dyads and a self-loop: enumerate all C(9, 4) sign placements
    src = [0, 1, 1, 2, 0, 2, 3, 3, 2]
    dst = [1, 0, 2, 1, 2, 0, 0, 3, 3]
    w = [1.0, -1.0, 2.0, -0.5, 1.0, 1.0, -1.0, -2.0, 1.0]
    g = SignedGraph.from_edges(src, dst, w)
    ffls = _brute_ffls(g)
    coo = g.adj.tocoo()
    signs0 = np.sign(coo.data)
    m, q = len(signs0), int((signs0 < 0).sum())
    bs = []
    for neg in itertools.combinations(range(m), q):
        s = np.ones(m)
        s[list(neg)] = -1
        bs.append(sum(s[a] * s[b] * s[c] > 0 for a, b, c in ffls))
    mom = sign_shuffle_ffl_moments(g)
    assert mom.ffl == len(ffls) and mom.ffl > 4
    assert mom.mean == pytest.approx(np.mean(bs), abs=1e-12)
    assert mom.var == pytest.approx(np.var(bs), abs=1e-12)
    assert mom.balanced == sum(signs0[a] * signs0[b] * signs0[c] > 0 for a, b, c in ffls)


def test_exact_moments_match_monte_carlo() -> None:
    # 90 % positive signs, so FFLs sharing edges are correlated and the covariance terms matter
    rng = np.random.default_rng(15)
    src, dst, _ = (x for x in random_graph(20, 110, 9).edges())
    w = np.where(rng.random(len(src)) < 0.9, 1.0, -1.0)
    g = SignedGraph.from_edges(src, dst, w, n_nodes=20)
    mom = sign_shuffle_ffl_moments(g)
    assert mom.pairs[1] > 0 and mom.pairs[2] > 0
    t = ffl_triples(g)
    signs = np.sign(g.adj.data)
    n = 100_000
    perms = rng.permuted(np.tile(signs, (n, 1)), axis=1)
    bal = (np.prod(perms[:, t.edges], axis=2) > 0).sum(axis=1)
    assert abs(bal.mean() - mom.mean) < 5 * np.sqrt(mom.var / n)
    # sd of the sample variance ~ var * sqrt(2 / n) for a near-normal count
    assert abs(bal.var(ddof=1) - mom.var) < 5 * mom.var * np.sqrt(2 / n)
    # the FFLs are not independent: treating them so would be detectably wrong
    p = (1 + 2 * mom.mean / mom.ffl - 1) / 2
    assert abs(mom.ffl * p * (1 - p) - mom.var) > 10 * mom.var * np.sqrt(2 / n)


def test_zscores_report_exact_z() -> None:
    g = load_zhang("pruning", 200)
    df = motif_zscores(g, ["ffl_balance"], null="sign_shuffle", n=50, seed=1)
    mom = sign_shuffle_ffl_moments(g)
    row = df.loc["ffl_balance_pooled"]
    assert row["analytic_z"] == pytest.approx(mom.z)
    assert row["analytic_mean"] == pytest.approx(mom.ratio_mean)
    assert df.loc["ffl_unbalanced", "analytic_z"] == pytest.approx(-mom.z)
    assert np.isnan(df.loc["ffl_balance_paper", "analytic_z"])
