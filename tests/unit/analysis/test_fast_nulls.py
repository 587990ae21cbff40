"""Fast null statistics equal the slow ones (issue 15): incremental census = full recount after
every move, vectorised samples = per-graph evaluation, exact sign-shuffle moments = enumeration
and Monte Carlo."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sparsetopo.analysis import (
    LayeredGraph,
    SignedGraph,
    ffl_counts,
    signed_triad_census,
    signed_triad_keys,
)
from sparsetopo.analysis.fastnull import ffl_triples, sign_shuffle_ffl_moments
from sparsetopo.analysis.nulls import DirectedChain, switching_census_samples, switching_samples
from sparsetopo.analysis.zscores import motif_zscores
from tests.support.extras import requires
from tests.support.graphs import load_zhang, random_graph


def census_vector(g: SignedGraph) -> np.ndarray:
    c = signed_triad_census(g).triads
    return np.array([c[k] for k in signed_triad_keys()])


@pytest.mark.slow  # ~2.5 s per case: a recount after every move
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


@pytest.mark.slow  # ~2 s of Monte Carlo
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


def _signed_ffl_sums_by_enumeration(S: np.ndarray) -> dict[str, int]:
    """Sum of sign products over every FFL (i->j, j->k, i->k), by the class of its triad."""
    from sparsetopo.analysis.triads import TRIAD_CODES

    sign = np.where(S == 2, -1, np.where(S == 1, 1, 0))
    n = len(S)
    out = dict.fromkeys(("030T", "120U", "120D", "120C", "210", "300"), 0)
    nx = requires("networkx")

    for i, j, k in itertools.permutations(range(n), 3):
        if sign[i, j] and sign[j, k] and sign[i, k]:
            sub = nx.DiGraph()
            sub.add_nodes_from((i, j, k))
            sub.add_edges_from((a, b) for a in (i, j, k) for b in (i, j, k) if a != b and S[a, b])
            cls = next(c for c, v in nx.triadic_census(sub).items() if v)
            assert cls in TRIAD_CODES
            out[cls] += int(sign[i, j] * sign[j, k] * sign[i, k])
    return out


@pytest.mark.parametrize(("n", "p", "seed"), [(3, 0.9, 0), (9, 0.4, 1), (16, 0.7, 2), (66, 0.08, 3)])
def test_bit_census_equals_networkx_and_enumeration(n: int, p: float, seed: int) -> None:
    nx = requires("networkx")

    from sparsetopo.analysis import _kernels as bc
    from sparsetopo.analysis.triads import TRIAD_CODES

    rng = np.random.default_rng(seed)
    adj = rng.random((n, n)) < p
    np.fill_diagonal(adj, False)
    S = (adj * rng.choice([1, 2], size=(n, n))).astype(np.int8)
    src, dst = (x.astype(np.int64) for x in np.nonzero(S))
    out = np.zeros(bc.ROW, dtype=np.int64)
    bc.census_row(S, src, dst, np.zeros((n, 8, bc.words(n)), dtype=np.uint64), out)
    dg = nx.DiGraph()
    dg.add_nodes_from(range(n))
    dg.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    expected = nx.triadic_census(dg)
    assert dict(zip(TRIAD_CODES, out[:16].tolist(), strict=True)) == expected
    if n <= 16:  # the enumeration is cubic in Python
        sums = _signed_ffl_sums_by_enumeration(S)
        assert out[16:].tolist() == [sums[c] for c in ("030T", "120U", "120D", "120C", "210", "300")]


@pytest.mark.parametrize("keep_mutual", [False, True])
def test_bit_census_samples_equal_the_tracked_census(keep_mutual: bool) -> None:
    from sparsetopo.analysis.fastnull import census_families
    from sparsetopo.analysis.zscores import _bit_columns

    # a sparse graph, one over 64 nodes (several bitset words) and a near-complete one, where
    # most samples accept no move and reuse the previous census
    dense = np.ones((8, 8)) - np.eye(8)
    dense[0, 1] = dense[5, 2] = 0
    s, d = np.nonzero(dense)
    full = np.ones((6, 6)) - np.eye(6)
    full[2, 3] = 0  # the only graph with these degrees: no move is ever accepted
    fs, fd = np.nonzero(full)
    graphs = [
        random_graph(25, 120, 4),
        random_graph(70, 400, 5),
        SignedGraph.from_edges(s, d, np.where((s + d) % 3, 1.0, -1.0), n_nodes=8),
        SignedGraph.from_edges(fs, fd, np.where(fs > fd, 1.0, -1.0), n_nodes=6),
    ]
    for g in graphs:
        fams = ["triads", "ffl_balance"]
        ref = census_families(fams, switching_census_samples(g, 40, seed=2, keep_mutual=keep_mutual,
                                                             thin=0.5))  # fmt: skip
        chain = DirectedChain(g, keep_mutual, False, np.random.default_rng(2))
        chain.burn(10.0)
        rows = chain.bit_census_samples(40, 0.5, 0.0 if chain.dstate[0] == 0 else 0.5)
        got = _bit_columns(fams, rows)
        assert set(got) == set(ref)
        for k in ref:
            np.testing.assert_array_equal(got[k], ref[k], err_msg=k)


@pytest.mark.slow  # ~1 s
def test_kernel_random_integers_are_uniform() -> None:
    from numba import njit
    from scipy.stats import chisquare

    from sparsetopo.analysis import _kernels as K

    @njit
    def draw(rs, m, n):  # type: ignore[no-untyped-def]
        out = np.zeros(m, dtype=np.int64)
        for _ in range(n):
            out[K._below(rs, m)] += 1
        return out

    rs = K.rng_state(np.random.default_rng(0))
    counts = draw(rs, 7, 70_000)
    assert counts.sum() == 70_000
    assert chisquare(counts).pvalue > 1e-4
    # the same seed gives the same stream, another seed another one
    a = draw(K.rng_state(np.random.default_rng(1)), 1000, 50)
    b = draw(K.rng_state(np.random.default_rng(1)), 1000, 50)
    c = draw(K.rng_state(np.random.default_rng(2)), 1000, 50)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def _layered(sizes: tuple[int, ...], density: float, seed: int) -> LayeredGraph:
    rng = np.random.default_rng(seed)
    mats = []
    for a, b in itertools.pairwise(sizes):
        m = (rng.random((a, b)) < density) * rng.choice([-1.5, 0.5, 2.0], size=(a, b))
        mats.append(m)
    return LayeredGraph.from_matrices(mats)


@pytest.mark.parametrize(("sizes", "density"), [((6, 5, 4), 0.35), ((30, 70, 12, 5), 0.06),
                                                 ((70, 66, 20, 9, 3), 0.05)])  # fmt: skip
def test_layered_bit_census_equals_recount_of_every_sample(sizes: tuple[int, ...], density: float) -> None:
    from sparsetopo.analysis import cycle4_balance, layered_motifs, live_neurons
    from sparsetopo.analysis.layered import LAYERED_MOTIFS
    from sparsetopo.analysis.nulls import layer_census_samples, layer_switching_samples

    lg = _layered(sizes, density, 7)
    samples = list(layer_switching_samples(lg, 12, seed=3, thin=0.4))
    rows = layer_census_samples(lg, 12, seed=3, thin=0.4)
    pruned = 0
    for h, row in zip(samples, rows, strict=True):
        lm = layered_motifs(h)
        c4 = cycle4_balance(h)
        assert row.tolist() == [lm.counts[k] for k in LAYERED_MOTIFS] + [c4.balanced, c4.total]
        pruned += sum(int((~m).sum()) for m in live_neurons(h))
    assert pruned > 0  # ghost and dead neurons were removed in these samples


def test_layered_bit_census_textbook_values() -> None:
    from sparsetopo.analysis.nulls import layer_census_samples

    # complete 2-3-2: the only graph with its degrees, so every sample is the graph itself;
    # edges 12, diverging2 2*C(3,2) + 3*C(2,2) = 9, converging2 3*C(2,2) + 2*C(3,2) = 9,
    # chain2 2*2 = 4, diverging3 2, converging3 2, chain3 0 (two layers), bi-fans
    # C(2,2)*C(3,2) + C(3,2)*C(2,2) = 6, bi-parallels 4 * C(3,2) = 12
    lg = LayeredGraph.from_matrices([np.ones((2, 3)), -np.ones((3, 2))])
    rows = layer_census_samples(lg, 3, seed=0)
    # every 2-path has sign (+)(-) = -: all 12 bi-parallels are balanced (same-sign paths)
    assert rows.tolist() == [[12, 9, 9, 4, 2, 2, 0, 6, 12, 12, 12]] * 3


def test_layered_fast_zscores_equal_graph_path() -> None:
    lg = _layered((40, 30, 20, 6), 0.1, 11)
    for opts in ({"thin": 0.5}, {"independent": True, "burn_in": 2.0}):
        a = motif_zscores(lg, ["layered", "cycle4_balance"], null="layer_switching", n=15, seed=5,
                          **opts)  # fmt: skip
        b = motif_zscores(lg, ["layered", "cycle4_balance"], null="layer_switching", n=15, seed=5,
                          fast=False, **opts)  # fmt: skip
        pd.testing.assert_frame_equal(a, b)
