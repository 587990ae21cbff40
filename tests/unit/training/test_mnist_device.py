"""MNIST IDX reading, the perturbation chain of SET starts, sign-fixed balanced topologies, and
device placement (CPU everywhere; the CUDA path where a CUDA device exists)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from sparsetopo.errors import InputError
from sparsetopo.training.loop import Trainer, resolve_device
from sparsetopo.training.sparsify.set_evolution import perturb_mask
from sparsetopo.training.tasks import build_task
from sparsetopo.training.tasks.mnist import has_mnist, read_idx


def _write_idx(path: Path, arr: np.ndarray, gz: bool = False) -> None:
    # the IDX layout: two zero bytes, type 0x08 (unsigned byte), ndim, big-endian dims, data
    head = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = head + arr.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    _write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (40, 28, 28)))
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(40) % 10)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (20, 28, 28)), gz=True)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(20) % 10, gz=True)
    return tmp_path


def test_mnist_tasks_read_idx_files(mnist_dir: Path, tmp_path: Path) -> None:
    assert has_mnist(mnist_dir) and not has_mnist(tmp_path / "nothing")
    raw = read_idx(mnist_dir / "train-images-idx3-ubyte")
    assert raw.shape == (40, 28, 28)
    flat = build_task("mnist", {"data_dir": str(mnist_dir)}).data(0)
    assert flat.x_train.shape == (40, 784) and flat.x_test.shape == (20, 784)
    assert float(flat.x_train[3, 5]) == pytest.approx(raw[3].reshape(-1)[5] / 255.0)
    assert flat.y_train.tolist()[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    seq = build_task("seq-mnist", {"data_dir": str(mnist_dir), "n_train": 10}).data(1)
    assert seq.x_train.shape == (10, 28, 28)
    with pytest.raises(InputError, match="MNIST IDX"):
        build_task("mnist", {"data_dir": str(tmp_path / "nothing")})
    bad = tmp_path / "bad"
    bad.mkdir()
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (bad / stem).write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00")
    with pytest.raises(InputError, match="not an unsigned-byte IDX"):
        build_task("mnist", {"data_dir": str(bad)}).data(0)


def test_perturbation_moves_exactly_the_fraction() -> None:
    keep = torch.zeros(20, 30, dtype=torch.bool)
    keep.view(-1)[torch.randperm(600, generator=torch.Generator().manual_seed(0))[:200]] = True
    out = perturb_mask(keep, 0.05, torch.Generator().manual_seed(1))
    assert int(out.sum()) == 200
    assert int((keep & ~out).sum()) == 10 and int((out & ~keep).sum()) == 10


def _set_masks(steps: int) -> list[torch.Tensor]:
    tr = Trainer("digits", "mlp", "set", sparsity=0.9, epochs=1, hidden=16, seed=steps,
                 strategy_options={"topology_seed": 7, "perturb_steps": steps,
                                   "perturb_fraction": 0.1}, device="cpu")
    return [torch.tensor(m) for m in tr.strategy.masks().values()]


def test_set_chain_each_start_one_step_from_the_previous() -> None:
    m0, m1, m2 = _set_masks(0), _set_masks(1), _set_masks(2)
    for a, b, c in zip(m0, m1, m2, strict=True):
        n = int(a.sum())
        moved = round(0.1 * n)
        # run k+1 starts from run k's topology with one more perturbation step
        assert int((a & ~b).sum()) == moved and int(b.sum()) == n
        assert int((b & ~c).sum()) == moved
    # a different run seed does not change the chain (the topology seed decides)
    again = Trainer("digits", "mlp", "set", sparsity=0.9, epochs=1, hidden=16, seed=99,
                    strategy_options={"topology_seed": 7, "perturb_steps": 1,
                                      "perturb_fraction": 0.1}, device="cpu")
    for a, b in zip(m1, again.strategy.masks().values(), strict=True):
        assert torch.equal(a, torch.tensor(b))


def test_fixed_signs_survive_training() -> None:
    tr = Trainer("seq-digits", "rnn", "balanced", sparsity=0.9, epochs=2, hidden=16, seed=0,
                 strategy_options={"target_balance": 0.0, "fix_signs": True}, device="cpu",
                 lr=0.05)
    t = tr.targets[0]
    before = torch.sign(getattr(t.module, t.name + "_orig").detach().clone())
    tr.run()
    after = torch.sign(getattr(t.module, t.name + "_orig").detach())
    mask = getattr(t.module, t.name + "_mask").bool()
    assert torch.equal(before[mask], after[mask])
    assert bool((after[~mask] == 0).all())


def test_resolve_device_and_cpu_placement() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InputError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA device"):
            resolve_device("cuda")
    tr = Trainer("navigation", "rnn", "moduli", sparsity=0.5, epochs=1, hidden=8, device="cpu",
                 task_options={"n_train": 20, "n_test": 5},
                 strategy_options={"manifold": "torus", "function": "dog", "invert": True})
    assert tr.config["device"] == "cpu"
    assert all(p.device.type == "cpu" for p in tr.model.parameters())
    assert all(r.device.type == "cpu" for r in tr.strategy.r.values())


STRATEGIES_ON_DEVICE = [
    ("seq-digits", "rnn", "set", {}), ("seq-digits", "rnn", "deepr", {}),
    ("seq-digits", "rnn", "gradual", {}),
    ("seq-digits", "rnn", "balanced", {"target_balance": 0.5, "fix_signs": True}),
    ("navigation", "rnn", "moduli", {"manifold": "klein", "function": "dog", "invert": True}),
    ("digits", "mlp", "set", {"topology_seed": 3, "perturb_steps": 2}),
]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(("task", "model", "strategy", "opts"), STRATEGIES_ON_DEVICE)
def test_training_runs_on_cuda(task: str, model: str, strategy: str, opts: dict) -> None:
    options = {"n_train": 40, "n_test": 10} if task == "navigation" else {}
    tr = Trainer(task, model, strategy, sparsity=0.9, epochs=2, hidden=16, device="cuda",
                 task_options=options, strategy_options=opts)
    assert all(p.device.type == "cuda" for p in tr.model.parameters())
    assert all(b.device.type == "cuda" for b in tr.model.buffers())  # the masks
    res = tr.run()
    assert np.isfinite(res.final_metric)
    # the masks read back for the graph are CPU arrays
    assert all(isinstance(m, np.ndarray) for m in res.strategy.masks().values())
    if strategy == "moduli":
        assert all(r.device.type == "cuda" for r in res.strategy.r.values())


@pytest.mark.parametrize(("task", "model", "strategy", "opts"), STRATEGIES_ON_DEVICE)
def test_training_runs_on_cpu_device(task: str, model: str, strategy: str, opts: dict) -> None:
    options = {"n_train": 40, "n_test": 10} if task == "navigation" else {}
    tr = Trainer(task, model, strategy, sparsity=0.9, epochs=1, hidden=8, device="cpu",
                 task_options=options, strategy_options=opts)
    res = tr.run()
    assert np.isfinite(res.final_metric) and tr.config["device"] == "cpu"
