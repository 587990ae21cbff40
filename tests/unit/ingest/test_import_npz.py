"""Per-layer .npz import (NNSTD format) and the npz exporter."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from tests.support.extras import requires

requires("torch")

from sparsetopo.errors import InputError
from sparsetopo.ingest.importers import read_inputs, write_npz_snapshot


def _random_layers(rng: np.random.Generator, sizes: list[int]) -> list[np.ndarray]:
    mats = []
    for n_in, n_out in itertools.pairwise(sizes):
        m = rng.normal(size=(n_in + 1, n_out)).astype(np.float32)
        m[rng.random(m.shape) < 0.7] = 0.0
        mats.append(m)
    return mats


def _save_dir(directory: Path, mats: list[np.ndarray]) -> None:
    directory.mkdir(parents=True)
    for k, m in enumerate(mats):
        sp.save_npz(directory / f"weight_l{k}.npz", sp.csr_matrix(m))


def test_directories_of_layer_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    snaps = {step: _random_layers(rng, [6, 5, 3]) for step in (20, 4)}
    for step, mats in snaps.items():
        _save_dir(tmp_path / f"epoch_{step}", mats)
    plan = read_inputs([tmp_path])
    assert plan.format == "npz" and [i.step for i in plan.items] == [4, 20]
    arch = plan.architecture
    assert arch.groups == {"input": 6, "l1": 5, "l2": 3}
    assert [(s.name, s.src_group, s.dst_group, s.n_in, s.n_out) for s in arch.layers] == [
        ("weight_l0", "input", "l1", 6, 5),
        ("weight_l1", "l1", "l2", 5, 3),
    ]
    for item in plan.items:
        snap = plan.load(item)
        for k, m in enumerate(snaps[item.step]):
            e = snap.layers[f"weight_l{k}"]
            src, dst = np.nonzero(m[:-1])  # bias row dropped
            assert e.src.tolist() == src.tolist() and e.dst.tolist() == dst.tolist()
            np.testing.assert_array_equal(e.w, m[:-1][src, dst])


def test_bias_kept_as_source_unit(tmp_path: Path) -> None:
    mats = _random_layers(np.random.default_rng(2), [4, 3])
    mats[0][-1] = [0.5, 0.0, -1.0]
    _save_dir(tmp_path / "run_1", mats)
    plan = read_inputs([tmp_path / "run_1"], drop_bias=False)
    spec = plan.architecture.layer("weight_l0.bias")
    assert (spec.src_group, spec.dst_group, spec.n_in) == ("bias_l0", "l1", 1)
    e = plan.load(plan.items[0]).layers["weight_l0.bias"]
    assert e.dst.tolist() == [0, 2] and e.w.tolist() == [0.5, -1.0]


def test_single_dense_npz_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))  # chain without bias rows
    np.savez(tmp_path / "dense_7.npz", weight_l0=a, weight_l1=b)
    plan = read_inputs([tmp_path / "dense_7.npz"])
    assert plan.items[0].step == 7 and plan.architecture.groups == {"input": 4, "l1": 3, "l2": 2}
    snap = plan.load(plan.items[0])
    np.testing.assert_array_equal(snap.layers["weight_l1"].to_dense(3, 2), b.astype(np.float32))


def test_shape_change_between_snapshots_names_both(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    _save_dir(tmp_path / "s_1", _random_layers(rng, [6, 5]))
    _save_dir(tmp_path / "s_2", _random_layers(rng, [6, 4]))
    with pytest.raises(InputError) as err:
        read_inputs([tmp_path])
    msg = str(err.value)
    assert "s_1" in msg and "s_2" in msg and "6x5" in msg and "6x4" in msg


def test_truncated_and_non_chaining_files(tmp_path: Path) -> None:
    _save_dir(tmp_path / "t_1", _random_layers(np.random.default_rng(5), [4, 3]))
    f = tmp_path / "t_1" / "weight_l0.npz"
    f.write_bytes(f.read_bytes()[:40])
    with pytest.raises(InputError, match=r"weight_l0\.npz.*truncated"):
        read_inputs([tmp_path / "t_1"])
    d = tmp_path / "c_1"
    d.mkdir()
    sp.save_npz(d / "weight_l0.npz", sp.csr_matrix(np.ones((5, 3))))
    sp.save_npz(d / "weight_l1.npz", sp.csr_matrix(np.ones((6, 2))))
    with pytest.raises(InputError, match=r"c_1.*must chain"):
        read_inputs([d])


def test_nonfinite_in_npz(tmp_path: Path) -> None:
    m = np.ones((3, 2), dtype=np.float32)
    m[0, 1] = np.nan
    _save_dir(tmp_path / "n_1", [m])
    with pytest.raises(InputError, match=r"n_1.*allow_nonfinite"):
        read_inputs([tmp_path / "n_1"])
    with pytest.warns(UserWarning):
        plan = read_inputs([tmp_path / "n_1"], allow_nonfinite=True)
    assert plan.dropped_nonfinite == 1 and plan.load(plan.items[0]).n_edges == 3


def test_round_trip_keeps_names_and_bias(tmp_path: Path) -> None:
    mats = _random_layers(np.random.default_rng(6), [5, 4, 2])
    _save_dir(tmp_path / "orig_3", mats)
    plan = read_inputs([tmp_path / "orig_3"], drop_bias=False)
    snap = plan.load(plan.items[0])
    written = write_npz_snapshot(snap, plan.architecture, tmp_path / "copy_3")
    assert sorted(p.name for p in written) == ["layers.json", "weight_l0.npz", "weight_l1.npz"]
    again = read_inputs([tmp_path / "copy_3"], drop_bias=False)
    assert again.architecture == plan.architecture
    snap2 = again.load(again.items[0])
    for name, e in snap.layers.items():
        np.testing.assert_array_equal(snap2.layers[name].w, e.w)
        np.testing.assert_array_equal(snap2.layers[name].src, e.src)
