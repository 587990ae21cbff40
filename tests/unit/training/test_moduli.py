"""Moduli distances match hand values; R is symmetric with the documented diagonal."""

import math

import numpy as np
import pytest
import torch

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


def test_klein_bottle_uses_glide_reflected_images() -> None:
    # (9, 8) glide-reflected: (9 - 10, -8 + 10) = (-1, 2): distance 2 to (1, 2)
    assert d("klein", [1.0, 2.0], [9.0, 8.0]) == pytest.approx(2.0)
    # a torus would give 1 here; the Klein image of (9.5, 1) is (-0.5, -1)
    assert d("klein", [0.5, 1.0], [9.5, 1.0]) == pytest.approx(math.sqrt(5))
    # plain translation along y: (1, 8) ~ (1, -2)
    assert d("klein", [1.0, 2.0], [1.0, 8.0]) == pytest.approx(4.0)


def test_sphere_distances_are_arccos() -> None:
    assert d("sphere", [1, 0, 0], [0, 1, 0]) == pytest.approx(math.pi / 2)
    assert d("sphere", [0, 0, 1], [0, 0, -1]) == pytest.approx(math.pi)
    assert d("circle", [1, 0], [0.5, math.sqrt(3) / 2]) == pytest.approx(math.pi / 3)
    v = np.array([1.0, 1.0, 1.0, 1.0]) / 2
    assert d("s3", [1, 0, 0, 0], list(v)) == pytest.approx(math.acos(0.5))
    assert float(distance_matrix("sphere", np.array([[1.0, 0, 0]]), radius=2.0)[0, 0]) == 0.0


def test_inhibitor_hand_values() -> None:
    assert inhibitor("square", np.array(2.0)) == pytest.approx(4.0)
    assert inhibitor("gaussian", np.array(1.0), sigma=1.0) == pytest.approx(1 - math.exp(-0.5))
    assert inhibitor("dog", np.array(0.0)) == pytest.approx(0.5)
    assert inhibitor("dog", np.array(1.0), sigma=1.0) == pytest.approx(
        1 - (math.exp(-0.5) - 0.5 * math.exp(-1 / 8)))
    assert inhibitor("ripple", np.array(1.0), wavelength=2.0) == pytest.approx(2.0)
    assert inhibitor("constant", np.array(3.0)) == 1.0


DIAGONAL = {"square": 0.0, "gaussian": 0.0, "dog": 0.5, "ripple": 0.0, "constant": 1.0}


@pytest.mark.parametrize("manifold", MANIFOLDS)
@pytest.mark.parametrize("function", INHIBITORS)
def test_r_is_symmetric_with_documented_diagonal(manifold: str, function: str) -> None:
    r = regulariser_matrix(manifold, 25, np.random.default_rng(0), function=function)
    assert np.allclose(r, r.T)
    assert np.allclose(np.diag(r), DIAGONAL[function])
    assert (r >= -1e-12).all()


def test_invert_and_permuted_control() -> None:
    base = regulariser_matrix("torus", 30, np.random.default_rng(1), function="dog")
    inv = regulariser_matrix("torus", 30, np.random.default_rng(1), function="dog", invert=True)
    assert np.allclose(inv, base.max() + base.min() - base)
    assert np.allclose(np.diag(inv), base.max() + base.min() - 0.5)
    perm = regulariser_matrix("torus", 30, np.random.default_rng(1), permuted=True)
    sq = regulariser_matrix("torus", 30, np.random.default_rng(1))
    iu = np.triu_indices(30, 1)
    assert np.allclose(perm, perm.T) and np.allclose(np.diag(perm), 0.0)
    assert np.allclose(np.sort(perm[iu]), np.sort(sq[iu]))
    assert not np.allclose(perm, sq)


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
    t1 = strat.t1
    assert t1 == round(0.75 * 2 * trainer.steps_per_epoch)
    for step in range(1, t1 + 1):
        strat.after_step(step)
        if step % 10 == 0 or step == t1:
            s = 0.5 * step / t1
            assert strat.n_edges() == 144 - math.floor(s * 144 + 0.5 + 1e-9), step
    assert strat.n_edges() == 72
