"""Built-in tasks produce what their docstrings say."""

import math

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from sparsetopo.training.tasks import TASK_NAMES, build_task
from sparsetopo.training.tasks.adding import adding_sequences
from sparsetopo.training.tasks.inverse_control import simulate_body
from sparsetopo.training.tasks.mackey_glass import mackey_glass
from sparsetopo.training.tasks.navigation import NavigationTask, random_walks

SMALL = {
    "digits": {}, "seq-digits": {}, "adding": {"n_train": 50, "n_test": 10},
    "mackey-glass": {"n_samples": 400}, "navigation": {"n_train": 20, "n_test": 5},
    "inverse-control": {"n_train": 50, "n_test": 10},
}


# mnist and seq-mnist read files: tested on written IDX files in test_mnist_device.py
@pytest.mark.parametrize("name", [n for n in TASK_NAMES if "mnist" not in n])
def test_task_shapes(name: str) -> None:
    task = build_task(name, SMALL[name])
    data = task.data(0)
    assert len(data.x_train) == len(data.y_train) and len(data.x_test) == len(data.y_test)
    assert data.x_train.shape[-1] == task.n_in
    assert data.x_train.dim() == (3 if task.sequential else 2)
    assert torch.isfinite(data.x_train).all()


def test_adding_targets_are_the_marked_sums() -> None:
    x, y = adding_sequences(100, 20, np.random.default_rng(0))
    assert (x[:, :, 1].sum(1) == 2).all()
    assert (x[:, :10, 1].sum(1) == 1).all()
    assert np.allclose((x[:, :, 0] * x[:, :, 1]).sum(1), y[:, 0], atol=1e-6)


def test_mackey_glass_is_bounded_and_chaotic_looking() -> None:
    s = mackey_glass(600)
    assert s.shape == (600,)
    assert s.min() > 0.2 and s.max() < 1.5
    assert s.std() > 0.15  # not decayed to the fixed point x* = 1 (tau = 17 is chaotic)
    same = mackey_glass(600)
    assert np.array_equal(s, same)


def test_navigation_walks_stay_in_the_box_and_integrate() -> None:
    pos, disp = random_walks(30, 50, np.random.default_rng(1))
    assert (pos >= 0).all() and (pos <= 1).all()
    assert np.allclose(pos[:, 0:1] + np.cumsum(disp, axis=1), pos[:, 1:])
    task = NavigationTask(n_train=10, n_test=5)
    data = task.data(0)
    # perfect place-cell outputs decode close to the true position
    err = task.score(torch.log(data.y_test[..., : task.n_place]), data.y_test)
    assert err < 0.08


def test_rigid_body_hand_cases() -> None:
    state = np.zeros((2, 6))
    state[1, 2] = math.pi / 2  # facing +y
    u = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    final = simulate_body(state, u, horizon=2.0, n_steps=2000, damping=0.5)
    assert np.allclose(final[0], 0.0)
    # forward force 1 along +y with damping 0.5 from rest: y(2) = 4 e^-1
    assert final[1, 1] == pytest.approx(4 * math.exp(-1), rel=1e-2)
    assert final[1, 0] == pytest.approx(0.0, abs=1e-9)
