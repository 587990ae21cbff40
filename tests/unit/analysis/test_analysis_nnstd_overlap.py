"""NNSTD against a loop re-implementation of the published reference code, and edge overlap
against Python sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from sparsetopo.analysis import LayeredGraph, SignedGraph, edge_overlap, nnstd, nnstd_recurrent
from sparsetopo.errors import InputError
from sparsetopo.topology import LayerEdges


def _ref_nnstd(w1: list[np.ndarray], w2: list[np.ndarray]) -> tuple[list[float], list[np.ndarray]]:
    """Liu et al. 2020 as published: per-neuron set loops, xor/union, Hungarian, row permutation."""

    def dist(a: np.ndarray, b: np.ndarray) -> float:
        if len(a) == 0 and len(b) == 0:
            return 0.0
        inter = np.intersect1d(a, b)
        if len(inter) == 0:
            return 1.0
        return (len(a) + len(b) - 2 * len(inter)) / len(np.union1d(a, b))

    per, matchings = [], []
    cols = None
    for k in range(len(w1)):
        l1 = w1[k] != 0
        l2 = (w2[k] != 0) if cols is None else (w2[k][cols] != 0)
        sets1 = [np.flatnonzero(l1[:, j]) for j in range(l1.shape[1])]
        sets2 = [np.flatnonzero(l2[:, j]) for j in range(l2.shape[1])]
        cost = np.array([[dist(a, b) for b in sets2] for a in sets1])
        _, cols = linear_sum_assignment(cost)
        per.append(cost[np.arange(len(cols)), cols].sum() / l1.shape[1])
        matchings.append(cols)
    return per, matchings


def _net(rng: np.random.Generator, sizes: list[int], density: float) -> list[np.ndarray]:
    return [
        rng.standard_normal((sizes[i], sizes[i + 1])) * (rng.random((sizes[i], sizes[i + 1])) < density)
        for i in range(len(sizes) - 1)
    ]


@pytest.mark.parametrize(("seed", "density"), [(0, 0.05), (1, 0.2), (2, 0.5)])
def test_nnstd_equals_reference(seed: int, density: float) -> None:
    rng = np.random.default_rng(seed)
    a, b = _net(rng, [30, 25, 20, 10], density), _net(rng, [30, 25, 20, 10], density)
    per, matchings = _ref_nnstd(a, b)
    r = nnstd(a, b)
    assert r.per_layer.tolist() == per
    assert r.distance == pytest.approx(float(np.mean(per)))
    assert all(np.array_equal(x, y) for x, y in zip(r.matchings, matchings, strict=True))


def test_nnstd_self_permuted_and_disjoint() -> None:
    rng = np.random.default_rng(5)
    w = _net(rng, [20, 15, 12, 6], 0.3)
    assert nnstd(w, w).distance == 0.0
    p1, p2 = rng.permutation(15), rng.permutation(12)
    wp = [w[0][:, p1], w[1][p1][:, p2], w[2][p2]]
    assert nnstd(w, wp, ties="robust").distance == 0.0
    # disjoint input sets: network 1 reads inputs 0-3 only, network 2 inputs 4-7 only
    m1 = np.zeros((8, 5))
    m2 = np.zeros((8, 5))
    m1[:4] = rng.random((4, 5)) < 0.6
    m2[4:] = rng.random((4, 5)) < 0.6
    m1[0], m2[4] = 1.0, 1.0
    assert nnstd([m1], [m2]).distance == 1.0
    dense = [np.ones((4, 3)), np.ones((3, 2))]
    assert nnstd(dense, dense).distance == 0.0


def test_nnstd_ties_reference_vs_robust() -> None:
    # hidden units 0 and 1 are ghosts (empty input sets) with different outputs
    w0 = np.zeros((4, 4))
    w0[:, 2] = [1, 1, 0, 0]
    w0[:, 3] = [0, 0, 1, 1]
    w1 = np.array([[1.0, 0, 0], [0, 1.0, 1.0], [1.0, 1.0, 0], [0, 0, 1.0]])
    perm = np.array([1, 0, 2, 3])
    a, b = [w0, w1], [w0[:, perm], w1[perm]]
    ref = nnstd(a, b)
    assert ref.per_layer[1] > 0  # scipy keeps the identity among the tied ghosts
    rob = nnstd(a, b, ties="robust")
    assert rob.distance == 0.0
    assert rob.per_layer[0] == ref.per_layer[0]


def test_nnstd_signed_and_errors() -> None:
    w = [np.array([[1.0, 0], [1.0, 1.0]]), np.array([[1.0], [1.0]])]
    flipped = [np.array([[1.0, 0], [-1.0, 1.0]]), np.array([[1.0], [1.0]])]
    assert nnstd(w, flipped).distance == 0.0
    assert nnstd(w, flipped, signed=True).per_layer[0] > 0
    with pytest.raises(InputError, match="architecture"):
        nnstd(w, [np.ones((2, 3)), np.ones((3, 1))])
    with pytest.raises(InputError, match="ties"):
        nnstd(w, w, ties="first")


def test_nnstd_recurrent() -> None:
    rng = np.random.default_rng(7)
    r = rng.standard_normal((40, 40)) * (rng.random((40, 40)) < 0.1)
    i = rng.standard_normal((10, 40)) * (rng.random((10, 40)) < 0.4)
    o = rng.standard_normal((40, 3)) * (rng.random((40, 3)) < 0.5)
    p = rng.permutation(40)
    res = nnstd_recurrent(r, r[p][:, p], i, i[:, p], o, o[p])
    assert res.distance == 0.0
    assert np.array_equal(p[res.matching], np.arange(40))
    other = rng.standard_normal((40, 40)) * (rng.random((40, 40)) < 0.1)
    assert nnstd_recurrent(r, other, i, i, o, o).per_layer["recurrent"] > 0.5
    with pytest.raises(InputError, match="square"):
        nnstd_recurrent(np.ones((3, 4)), np.ones((3, 4)))


def _sets(s: np.ndarray, d: np.ndarray, w: np.ndarray) -> dict[tuple[int, int], float]:
    return {(int(a), int(b)): float(x) for a, b, x in zip(s, d, w, strict=True)}


def test_edge_overlap_against_sets() -> None:
    rng = np.random.default_rng(3)
    n = 50
    k1 = rng.choice(n * n, 600, replace=False)
    k2 = np.unique(np.concatenate([k1[:300], rng.choice(n * n, 300, replace=False)]))
    w1, w2 = rng.standard_normal(len(k1)), rng.standard_normal(len(k2))
    a = SignedGraph.from_edges(k1 // n, k1 % n, w1, n)
    b = SignedGraph.from_edges(k2 // n, k2 % n, w2, n)
    sa, sb = _sets(k1 // n, k1 % n, w1), _sets(k2 // n, k2 % n, w2)
    shared = set(sa) & set(sb)
    flips = sum(np.sign(sa[e]) != np.sign(sb[e]) for e in shared)
    r = edge_overlap(a, b)
    assert (r.shared, r.only_a, r.only_b, r.sign_flips) == (
        len(shared), len(set(sa) - set(sb)), len(set(sb) - set(sa)), flips)  # fmt: skip
    assert r.jaccard == pytest.approx(len(shared) / len(set(sa) | set(sb)))
    # the same through dicts of LayerEdges (unsorted input is accepted)
    order = rng.permutation(len(k1))
    da = {"rec": LayerEdges((k1 // n)[order], (k1 % n)[order], w1[order])}
    db = {"rec": LayerEdges(k2 // n, k2 % n, w2)}
    r2 = edge_overlap(da, db)
    assert (r2.shared, r2.only_a, r2.only_b, r2.sign_flips) == (r.shared, r.only_a, r.only_b, r.sign_flips)


def test_edge_overlap_layered_and_errors() -> None:
    x = [np.array([[1.0, 0], [0, -1.0]]), np.array([[1.0], [1.0]])]
    y = [np.array([[1.0, 1.0], [0, 1.0]]), np.array([[0.0], [1.0]])]
    r = edge_overlap(LayeredGraph.from_matrices(x), LayeredGraph.from_matrices(y))
    assert r.per_layer.loc["layer0"].tolist() == [2, 0, 1, 1, 2 / 3]
    assert r.per_layer.loc["layer1"].tolist() == [1, 1, 0, 0, 0.5]
    assert (r.shared, r.only_a, r.only_b, r.sign_flips) == (3, 1, 1, 1)
    with pytest.raises(InputError, match="architectures"):
        edge_overlap(LayeredGraph.from_matrices(x), LayeredGraph.from_matrices([np.ones((2, 3))]))
    with pytest.raises(InputError, match="different layers"):
        edge_overlap({"a": LayerEdges([0], [1], [1.0])}, {"b": LayerEdges([0], [1], [1.0])})
    with pytest.raises(InputError, match="SignedGraphs"):
        edge_overlap(1, 2)


def test_recurrent_nnstd_never_worse_than_keeping_unit_identity() -> None:
    """Two snapshots of one run: matching unit i to unit i is always available, so the
    recurrent NNSTD may not exceed the mean Jaccard distance of input sets under identity
    (computed here with Python sets). Regression: a degree-only start once gave 0.96 vs 0.37."""
    import pandas as pd

    folder = (Path(__file__).parents[2] / "data" / "zhang2023-sparse-rnn" / "MNIST"
              / "SET_n_150_p_0.05_zeta_0.2")

    def load(epoch: int) -> tuple[list[set[int]], SignedGraph]:
        df = pd.read_csv(folder / f"edge_list_weighted_{epoch}.csv")
        inputs = [set(df.Source[df.Target == j].tolist()) for j in range(150)]
        g = SignedGraph.from_edges(df.Source.values, df.Target.values, df.Weight.values,
                                   n_nodes=150)
        return inputs, g

    for a, b in ((100, 105), (0, 5)):
        sa, ga = load(a)
        sb, gb = load(b)
        identity = np.mean([len(x ^ y) / len(x | y) if x | y else 0.0
                            for x, y in zip(sa, sb, strict=True)])
        assert nnstd_recurrent(ga, gb).distance <= identity + 1e-12
