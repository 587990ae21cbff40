"""Layered motifs: dense formulas (Zahn et al. 2024), brute-force enumeration, ghost/dead removal."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest

from sparsetopo.analysis import LayeredGraph, cycle4_balance, layered_motifs, live_neurons
from sparsetopo.errors import InputError


@pytest.mark.parametrize(("a", "b", "c"), [(3, 4, 2), (5, 3, 6), (2, 2, 2)])
def test_dense_three_layer_formulas(a: int, b: int, c: int) -> None:
    r = layered_motifs(LayeredGraph.from_matrices([np.ones((a, b)), np.ones((b, c))]))
    assert r.counts == {
        "edge": a * b + b * c,
        "diverging2": a * comb(b, 2) + b * comb(c, 2),
        "converging2": b * comb(a, 2) + c * comb(b, 2),
        "chain2": a * c,
        "diverging3": a * comb(b, 3) + b * comb(c, 3),
        "converging3": b * comb(a, 3) + c * comb(b, 3),
        "chain3": 0,
        "bifan": comb(a, 2) * comb(b, 2) + comb(b, 2) * comb(c, 2),
        "biparallel": a * c * comb(b, 2),
    }


def _brute(ws: list[np.ndarray]) -> dict[str, int]:
    out = dict.fromkeys(
        ["edge", "diverging2", "converging2", "chain2", "diverging3", "converging3", "chain3",
         "bifan", "biparallel"], 0)  # fmt: skip
    for m in ws:
        out["edge"] += int(np.count_nonzero(m))
        for i in range(m.shape[0]):
            t = np.flatnonzero(m[i])
            out["diverging2"] += len(list(itertools.combinations(t, 2)))
            out["diverging3"] += len(list(itertools.combinations(t, 3)))
        for k in range(m.shape[1]):
            s = np.flatnonzero(m[:, k])
            out["converging2"] += len(list(itertools.combinations(s, 2)))
            out["converging3"] += len(list(itertools.combinations(s, 3)))
        for i1, i2 in itertools.combinations(range(m.shape[0]), 2):
            for k1, k2 in itertools.combinations(range(m.shape[1]), 2):
                out["bifan"] += int(all(m[i, k] for i in (i1, i2) for k in (k1, k2)))
    for m1, m2 in itertools.pairwise(ws):
        for i in range(m1.shape[0]):
            for k in range(m2.shape[1]):
                mids = [j for j in range(m1.shape[1]) if m1[i, j] and m2[j, k]]
                out["chain2"] += int(bool(mids))
                out["biparallel"] += comb(len(mids), 2)
    for m1, m2, m3 in zip(ws, ws[1:], ws[2:], strict=False):
        reach = (np.abs(m1) > 0).astype(int) @ (np.abs(m2) > 0) @ (np.abs(m3) > 0)
        out["chain3"] += int(np.count_nonzero(reach))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_layered_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = [5, 6, 4, 5]
    ws = [rng.choice([0.0, 0.0, 1.0, -1.0], size=(sizes[i], sizes[i + 1])) for i in range(3)]
    r = layered_motifs(LayeredGraph.from_matrices(ws), remove_ghost_dead=False)
    assert r.counts == _brute(ws)
    # signed chain2 counts paths by ordered signs
    paths = {"++": 0, "+-": 0, "-+": 0, "--": 0}
    for m1, m2 in itertools.pairwise(ws):
        for i, j, k in itertools.product(*(range(x) for x in (m1.shape[0], m1.shape[1], m2.shape[1]))):
            if m1[i, j] and m2[j, k]:
                paths[("+" if m1[i, j] > 0 else "-") + ("+" if m2[j, k] > 0 else "-")] += 1
    assert r.signed["chain2"] == paths
    assert sum(r.signed["bifan"].values()) == r.counts["bifan"]
    assert r.signed["biparallel"]["balanced"] + r.signed["biparallel"]["unbalanced"] == r.counts["biparallel"]


def test_ghost_and_dead_removal_cascades() -> None:
    w0 = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])  # hidden 1, 2 are ghosts (no input)
    w1 = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # output 1 fed only by ghosts
    w2 = np.array([[1.0], [1.0]])
    lg = LayeredGraph.from_matrices([w0, w1, w2])
    live = live_neurons(lg)
    assert [x.tolist() for x in live] == [[True, True], [True, False, False], [True, False], [True]]
    r = layered_motifs(lg)
    assert r.counts["edge"] == 2 + 1 + 1
    assert layered_motifs(lg, remove_ghost_dead=False).counts["edge"] == 2 + 4 + 2


def test_bias_nodes() -> None:
    lg = LayeredGraph.from_matrices([np.ones((2, 3)), np.ones((3, 1))])
    r = layered_motifs(lg, bias=True)
    # each layer gets one extra source connected to all targets
    assert r.sizes == (3, 4, 1)
    assert r.counts["edge"] == 3 * 3 + 4 * 1
    lgb = LayeredGraph.from_matrices(
        [np.ones((2, 3)), np.ones((3, 1))], biases=[np.array([0.0, 1.0, -1.0]), np.array([0.0])]
    )
    rb = layered_motifs(lgb, bias=True)
    assert rb.counts["edge"] == 6 + 2 + 3
    assert rb.signed["edge"] == {"+": 6 + 1 + 3, "-": 1}


def test_cycle4_balance_brute_force() -> None:
    rng = np.random.default_rng(3)
    ws = [rng.choice([0.0, 1.0, -1.0], size=s) for s in [(5, 6), (6, 5), (5, 3)]]
    bal = unb = 0
    for m1, m2 in itertools.pairwise(ws):
        for i in range(m1.shape[0]):
            for k in range(m2.shape[1]):
                for j1, j2 in itertools.combinations(range(m1.shape[1]), 2):
                    e = [m1[i, j1], m2[j1, k], m1[i, j2], m2[j2, k]]
                    if all(e):
                        bal += int(np.prod(e) > 0)
                        unb += int(np.prod(e) < 0)
    r = cycle4_balance(LayeredGraph.from_matrices(ws), remove_ghost_dead=False)
    assert (r.balanced, r.unbalanced) == (bal, unb)


def test_layered_bad_input() -> None:
    with pytest.raises(InputError, match="shape"):
        LayeredGraph.from_matrices([np.ones((2, 3)), np.ones((4, 1))])
    with pytest.raises(InputError, match="NaN"):
        LayeredGraph.from_matrices([np.array([[np.nan]])])
    with pytest.raises(InputError, match="LayeredGraph"):
        layered_motifs([np.ones((2, 2))])  # type: ignore[arg-type]
