"""Issue 10, defects 4 and 5: weights are checked as the float32 they are stored as, and every
limit (steps, unit counts, dtypes) is checked while reading, before anything is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from sparsetopo.errors import InputError
from sparsetopo.ingest.extract import as_float32_weights
from sparsetopo.ingest.importers import read_inputs
from sparsetopo.topology import MAX_GROUP_UNITS, LayerEdges, check_step

HEADER = "Id,Source,Target,Weight\n"


def test_float32_cast_checked_not_float64(tmp_path: Path):
    # 1e-40 is a float32 subnormal: stored exactly as float32(1e-40), positive
    (tmp_path / "w_1.csv").write_text(HEADER + "0,0,1,1e-40\n1,1,0,-3e38\n")
    snap = next(read_inputs([tmp_path]).snapshots())
    w = snap.layers["W_rec"].w
    assert w.dtype == np.float32
    assert w.tolist() == [np.float32(1e-40), np.float32(-3e38)]
    assert (w[0] > 0) and (w[1] < 0)
    for bad, why in (("1e-50", "smallest magnitude"), ("-1e-46", "smallest magnitude"),
                     ("1e39", "float32 range"), ("-3.5e38", "float32 range")):
        (tmp_path / "w_1.csv").write_text(HEADER + f"0,0,1,{bad}\n")
        with pytest.raises(InputError, match=why):
            read_inputs([tmp_path])


def test_as_float32_weights_rejects_what_the_cast_would_change():
    with pytest.raises(InputError, match=r"weight 1e-50 at \(src=1, dst=0\)"):
        as_float32_weights(np.array([[0.5, 0.0], [1e-50, 0.0]]))
    with pytest.raises(InputError, match="complex"):
        as_float32_weights(np.ones((2, 2), dtype=np.complex128))
    ok = as_float32_weights(np.array([[0.0, 2.0]], dtype=np.float64))
    assert ok.dtype == np.float32 and ok.tolist() == [[0.0, 2.0]]


def test_bf16_checkpoint_is_converted_exactly(tmp_path: Path):
    lin = torch.nn.Linear(4, 3).to(torch.bfloat16)
    with torch.no_grad():
        lin.weight[0, 0] = 0.0
    torch.save(lin.state_dict(), tmp_path / "ckpt_2.pt")
    snap = next(read_inputs([tmp_path / "ckpt_2.pt"]).snapshots())
    dense = snap.layers["weight"].to_dense(4, 3)
    np.testing.assert_array_equal(dense, lin.weight.detach().float().numpy().T)
    assert snap.n_edges == 11


def test_steps_checked_before_anything(tmp_path: Path):
    for k in (1, 2, 3):
        (tmp_path / f"a_{k}.csv").write_text(HEADER + "0,0,1,0.5\n")
    with pytest.raises(InputError, match="must increase"):
        read_inputs([tmp_path], steps=[10, 5, 1])
    with pytest.raises(InputError, match="out of range"):
        read_inputs([tmp_path], steps=[1, 2, 10**20])
    assert [i.step for i in read_inputs([tmp_path], steps=[0, 5, 2**63 - 1]).items] == [
        0, 5, 2**63 - 1]
    big = tmp_path / "b" / f"w_{10**20}.csv"
    big.parent.mkdir()
    big.write_text(HEADER + "0,0,1,0.5\n")
    with pytest.raises(InputError, match="at the end of the name"):
        read_inputs([big])
    assert check_step(3.0) == 3
    for bad in (1.5, -1, True, "3"):
        with pytest.raises(InputError):
            check_step(bad)


def test_unit_count_limit(tmp_path: Path):
    (tmp_path / "w_1.csv").write_text(HEADER + f"0,{MAX_GROUP_UNITS},1,0.5\n")
    with pytest.raises(InputError, match="limit of 10,000,000 units per group"):
        read_inputs([tmp_path])
    (tmp_path / "w_1.csv").write_text(HEADER + f"0,{MAX_GROUP_UNITS - 1},1,0.5\n")
    with pytest.raises(InputError, match="--n"):
        read_inputs([tmp_path], n=MAX_GROUP_UNITS + 1)


def test_layer_edges_never_wrap_indices():
    with pytest.raises(ValueError, match="outside"):
        LayerEdges(np.array([2**32 + 1]), np.array([0]), np.array([1.0]))
