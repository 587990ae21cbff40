"""Moduli distances match hand values; R is symmetric with the documented diagonal."""

import math

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from sparsetopo.training.loop import Trainer
from sparsetopo.training.sparsify.base import mask_of, orig_of
from sparsetopo.training.sparsify.moduli import (
    INHIBITORS,
    MANIFOLDS,
    ModuliRegularisation,
    distance_matrix,
    inhibitor,
    regulariser_matrix,
)


def d(manifold: str, a: list[float], b: list[float]) -> float:
    return float(distance_matrix(manifold, np.array([a]), np.array([b]))[0, 0])


def test_torus_wraps_around() -> None:
    assert d("torus", [0.5, 0.0], [9.5, 0.0]) == pytest.approx(1.0)
    assert d("torus", [1.0, 1.0], [9.0, 9.0]) == pytest.approx(math.sqrt(8))
    assert d("torus", [2.0, 3.0], [5.0, 7.0]) == pytest.approx(5.0)
    a, b = [0.5, 0, 0, 0, 0, 3.0], [9.5, 0, 0, 0, 0, 7.0]
    assert d("torus6", a, b) == pytest.approx(math.sqrt(1 + 16))


def test_klein_bottle_uses_the_nine_authors_images() -> None:
    # images of b = (bx, by): (bx + 10 m, (by if m == 0 else 10 - by) + 10 n), m, n in {-1, 0, 1}
    # (9, 2) glide-reflected with m = -1: (-1, 10 - 2) = (-1, 8): distance 2 to (1, 8)
    assert d("klein", [1.0, 8.0], [9.0, 2.0]) == pytest.approx(2.0)
    # a torus would give 1 here; the nearest Klein image of (9.5, 1) is (-0.5, 9 - 10) = (-0.5, -1)
    assert d("klein", [0.5, 1.0], [9.5, 1.0]) == pytest.approx(math.sqrt(1 + 4))
    # (9.5, 5) reflects onto (-0.5, 5): the reflection axis y = 5 is fixed, so this is 1
    assert d("klein", [0.5, 5.0], [9.5, 5.0]) == pytest.approx(1.0)
    # plain translation along y: (1, 8) ~ (1, -2)
    assert d("klein", [1.0, 2.0], [1.0, 8.0]) == pytest.approx(4.0)
    # symmetric in its arguments on sampled points
    pts = np.random.default_rng(3).uniform(0, 10, size=(40, 2))
    dm = distance_matrix("klein", pts)
    assert np.allclose(dm, dm.T) and np.allclose(np.diag(dm), 0.0)


def test_brute_force_klein_matches_a_dense_image_search() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.uniform(0, 10, size=(30, 2)), rng.uniform(0, 10, size=(30, 2))
    expect = np.empty((30, 30))
    for i in range(30):
        for j in range(30):
            best = math.inf
            for m in (-1, 0, 1):
                for n in (-1, 0, 1):
                    y = b[j, 1] if m == 0 else 10 - b[j, 1]
                    best = min(best, math.dist(a[i], (b[j, 0] + 10 * m, y + 10 * n)))
            expect[i, j] = best
    assert np.allclose(distance_matrix("klein", a, b), expect)


def test_sphere_distances_are_scaled_arccos() -> None:
    assert d("sphere", [1, 0, 0], [0, 1, 0]) == pytest.approx(5 * math.pi / 2)
    assert d("sphere", [0, 0, 1], [0, 0, -1]) == pytest.approx(5 * math.pi)
    assert d("circle", [1, 0], [0.5, math.sqrt(3) / 2]) == pytest.approx(5 * math.pi / 3)
    v = np.array([1.0, 1.0, 1.0, 1.0]) / 2
    assert d("s3", [1, 0, 0, 0], list(v)) == pytest.approx(10 * math.acos(0.5))
    assert float(distance_matrix("sphere", np.array([[1.0, 0, 0]]))[0, 0]) == 0.0


def test_inhibitor_hand_values() -> None:
    assert inhibitor("square", np.array(2.0)) == pytest.approx(4.0)
    assert inhibitor("gauss", np.array(0.0)) == pytest.approx(100.0)
    assert inhibitor("gauss", np.array(3.0)) == pytest.approx(100 * math.exp(-3.0))
    assert inhibitor("dog", np.array(0.0)) == pytest.approx(0.0)
    assert inhibitor("dog", np.array(1.0)) == pytest.approx(100 * (math.exp(-0.2) - math.exp(-4)))
    assert inhibitor("dog", np.array(0.5)) == pytest.approx(
        100 * (math.exp(-0.05) - math.exp(-1.0)))
    assert inhibitor("ripple", np.array(0.0)) == pytest.approx(100.0)
    assert inhibitor("ripple", np.array(math.pi / 2)) == pytest.approx(0.0)
    assert inhibitor("ripple", np.array(1.0)) == pytest.approx(50 + 50 * math.cos(2.0))
    assert inhibitor("standard", np.array(3.0)) == 1.0


DIAGONAL = {"square": 0.0, "gauss": 100.0, "dog": 0.0, "ripple": 100.0, "standard": 1.0}


@pytest.mark.parametrize("manifold", MANIFOLDS)
@pytest.mark.parametrize("function", INHIBITORS)
def test_r_is_symmetric_with_the_diagonal_f0(manifold: str, function: str) -> None:
    r = regulariser_matrix(manifold, 25, np.random.default_rng(0), function=function)
    assert np.allclose(r, r.T)
    assert np.allclose(np.diag(r), DIAGONAL[function])
    assert (r >= -1e-12).all()


def test_r_on_a_hand_made_torus() -> None:
    # three units at known positions: R_ij = f(d_ij) with d computed by hand
    pos = np.array([[0.5, 0.5], [9.5, 0.5], [0.5, 3.5]])
    dm = distance_matrix("torus", pos)
    assert dm[0, 1] == pytest.approx(1.0) and dm[0, 2] == pytest.approx(3.0)
    assert dm[1, 2] == pytest.approx(math.sqrt(1 + 9))
    assert inhibitor("square", dm)[1, 2] == pytest.approx(10.0)


def test_invert_and_permute() -> None:
    base = regulariser_matrix("torus", 30, np.random.default_rng(1), function="dog")
    inv = regulariser_matrix("torus", 30, np.random.default_rng(1), function="dog", invert=True)
    assert np.allclose(inv, base.max() - base)
    assert np.allclose(np.diag(inv), base.max())
    perm = regulariser_matrix("torus", 30, np.random.default_rng(1), permute=True)
    sq = regulariser_matrix("torus", 30, np.random.default_rng(1))
    # all N^2 entries shuffled: same multiset, no longer symmetric, diagonal no longer all 0
    assert np.allclose(np.sort(perm.ravel()), np.sort(sq.ravel()))
    assert not np.allclose(perm, perm.T)
    assert not np.allclose(np.diag(perm), 0.0)


def test_penalty_and_linear_ramp() -> None:
    trainer = Trainer(
        "seq-digits", "rnn", "moduli", sparsity=0.5, epochs=2, hidden=12, seed=0,
        strategy_options={"lam": 0.1, "manifold": "circle", "prune_every": 10},
    )
    strat = trainer.strategy
    assert isinstance(strat, ModuliRegularisation)
    target = trainer.targets[0]
    w = orig_of(target).detach() * mask_of(target)
    r = strat.r[target.label]
    assert torch.allclose(r, r.T)
    penalty = strat.penalty()
    assert penalty is not None
    assert penalty.item() == pytest.approx(0.1 * float((r * w.abs()).mean()), rel=1e-6)
    # the exponent p: lam * mean(R |W|^p)
    strat.p = 2.0
    again = strat.penalty()
    assert again is not None
    assert again.item() == pytest.approx(0.1 * float((r * w.abs() ** 2).mean()), rel=1e-5)
    strat.p = 1.0
    t1 = strat.t1
    assert t1 == round(0.75 * 2 * trainer.steps_per_epoch)
    for step in range(1, t1 + 1):
        strat.after_step(step)
        if step % 10 == 0 or step == t1:
            s = 0.5 * step / t1
            assert strat.n_edges() == 144 - math.floor(s * 144 + 0.5 + 1e-9), step
    assert strat.n_edges() == 72
