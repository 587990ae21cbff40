"""Null models keep exactly what they promise on every sample; Z-scores are reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from sparsetopo.analysis import (
    LayeredGraph,
    dyad_census,
    layer_switching_samples,
    live_neurons,
    motif_zscores,
    sign_shuffle,
    switching_samples,
    zahn_null,
)
from sparsetopo.errors import InputError
from tests.support.graphs import random_graph


def _deg(g):  # type: ignore[no-untyped-def]
    a = g.adj
    return np.diff(a.indptr), np.bincount(a.indices, minlength=g.n_nodes)


@pytest.mark.parametrize("keep_mutual", [False, True])
def test_switching_keeps_degrees_and_mutual(keep_mutual: bool) -> None:
    g = random_graph(40, 300, 1)
    out0, in0 = _deg(g)
    d0 = dyad_census(g)
    signs0 = np.sort(np.sign(g.adj.data))
    changed = 0
    for h in switching_samples(g, 20, seed=3, keep_mutual=keep_mutual, thin=0.5):
        out1, in1 = _deg(h)
        assert np.array_equal(out0, out1) and np.array_equal(in0, in1)
        assert h.n_edges == g.n_edges and np.all(h.adj.diagonal() == 0)
        assert np.array_equal(np.sort(np.sign(h.adj.data)), signs0)
        d1 = dyad_census(h)
        if keep_mutual:
            mut = ("mutual++", "mutual+-", "mutual--")
            assert sum(d0[k] for k in mut) == sum(d1[k] for k in mut)
        changed += int((h.adj != g.adj).nnz > 0)
    assert changed == 20


def test_switching_signs_travel_with_source() -> None:
    g = random_graph(30, 200, 2)
    h = next(switching_samples(g, 1, seed=0))
    for i in range(g.n_nodes):
        a = np.sort(g.adj.data[g.adj.indptr[i] : g.adj.indptr[i + 1]])
        b = np.sort(h.adj.data[h.adj.indptr[i] : h.adj.indptr[i + 1]])
        assert np.array_equal(a, b)


def test_layer_switching_and_zahn_keep_layer_invariants() -> None:
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(s) * (rng.random(s) < 0.3) for s in [(12, 10), (10, 8), (8, 3)]]
    lg = LayeredGraph.from_matrices(ws)
    for h in layer_switching_samples(lg, 10, seed=1):
        for m0, m1 in zip(lg.layers, h.layers, strict=True):
            assert np.array_equal(m0.getnnz(axis=1), m1.getnnz(axis=1))
            assert np.array_equal(m0.getnnz(axis=0), m1.getnnz(axis=0))
    live0 = live_neurons(lg)
    from sparsetopo.analysis import prune_ghost_dead

    pruned = prune_ghost_dead(lg)
    for s in range(10):
        h = zahn_null(lg, seed=s)
        for i, (m0, m1) in enumerate(zip(pruned.layers, h.layers, strict=True)):
            assert m0.nnz == m1.nnz
            outdeg, indeg = m1.getnnz(axis=1), m1.getnnz(axis=0)
            assert np.all(outdeg[live0[i]] >= 1) and np.all(outdeg[~live0[i]] == 0)
            assert np.all(indeg[live0[i + 1]] >= 1) and np.all(indeg[~live0[i + 1]] == 0)
        assert [x.tolist() for x in live_neurons(h)] == [x.tolist() for x in live0]


def test_sign_shuffle_keeps_topology() -> None:
    g = random_graph(30, 200, 4)
    h = sign_shuffle(g, seed=1)
    assert (abs(h.adj) != abs(g.adj)).nnz == 0
    assert (h.adj.data > 0).sum() == (g.adj.data > 0).sum()


def test_zscores_reproducible_and_analytic() -> None:
    g = random_graph(40, 250, 6)
    a = motif_zscores(g, ["triads", "ffl_balance"], null="switching", n=30, seed=9)
    b = motif_zscores(g, ["triads", "ffl_balance"], null="switching", n=30, seed=9)
    assert a.equals(b)
    assert list(a.columns) == ["count", "null_mean", "null_sd", "z", "z_se", "p_greater", "p_less", "p", "analytic_mean",
                               "analytic_sd", "analytic_z"]
    s = motif_zscores(g, ["triads", "ffl_balance"], null="sign_shuffle", n=200, seed=1)
    assert (s.loc["030T", "null_sd"], s.loc["030T", "analytic_mean"]) == (0.0, s.loc["030T", "count"])
    row = s.loc["ffl_balance_pooled"]
    assert abs(row["null_mean"] - row["analytic_mean"]) < 4 * row["null_sd"] / np.sqrt(200) + 1e-9
    rng = np.random.default_rng(0)
    lg = LayeredGraph.from_matrices([rng.standard_normal(s) * (rng.random(s) < 0.4) for s in [(8, 8), (8, 8)]])
    z = motif_zscores(lg, null="layer_switching", n=20, seed=0)
    assert z.loc["diverging2", "null_sd"] == 0.0 and z.loc["diverging2", "analytic_mean"] == z.loc["diverging2", "count"]
    zz = motif_zscores(lg, ["layered", "cycle4_balance"], null="zahn", n=10, seed=0)
    assert zz.loc["edge", "null_sd"] == 0.0
    with pytest.raises(InputError, match="null model"):
        motif_zscores(g, null="zahn")
    with pytest.raises(InputError, match="motif family"):
        motif_zscores(g, "bifan", null="switching", n=2)
