"""PyTorch checkpoint import: inference from names/shapes, prune buffers, mapping, corrupt files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from torch import nn
from torch.nn.utils import prune

from sparsetopo.errors import InputError
from sparsetopo.ingest.extract import ModelGraph
from sparsetopo.ingest.importers import read_inputs
from tests.support.torch_utils import tensor


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(3, 4, num_layers=2)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0])


def test_lstm_checkpoints_match_live_model(tmp_path: Path) -> None:
    net = Net()
    prune.random_unstructured(net.head, "weight", amount=0.5)
    for epoch in (12, 3):
        torch.save(
            {"model_state_dict": net.state_dict(), "epoch": epoch},
            tmp_path / f"ckpt_epoch{epoch}.pt",
        )
    plan = read_inputs([tmp_path])
    assert plan.format == "pt" and [i.step for i in plan.items] == [3, 12]
    live = ModelGraph(net)
    assert plan.architecture == live.architecture
    spec = plan.architecture.layer("rnn.weight_hh_l1.g")
    assert (spec.gate, spec.src_group, spec.dst_group) == ("g", "rnn.l1", "rnn.l1")
    assert plan.architecture.layer("head.weight").kind == "readout"
    snap, ref = plan.load(plan.items[0]), live.snapshot()
    for name, e in ref.layers.items():
        np.testing.assert_array_equal(snap.layers[name].w, e.w)
        np.testing.assert_array_equal(snap.layers[name].dst, e.dst)
    assert len(snap.layers["head.weight"]) == int(tensor(net.head, "weight_mask").sum())


def test_plain_state_dict_linear_chain(tmp_path: Path) -> None:
    net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3), nn.BatchNorm1d(3))
    torch.save(net.state_dict(), tmp_path / "m.pth")
    arch = read_inputs([tmp_path / "m.pth"]).architecture
    assert [(s.name, s.src_group, s.dst_group) for s in arch.layers] == [
        ("0.weight", "input", "0"),
        ("2.weight", "0", "2"),
    ]


def test_mapping_and_unknown_names(tmp_path: Path) -> None:
    state = {"W": torch.randn(4, 4), "enc": torch.randn(4, 2)}
    torch.save(state, tmp_path / "w_1.pt")
    plan = read_inputs([tmp_path / "w_1.pt"], mapping={"W": ("hidden", "hidden", "recurrent")})
    assert plan.architecture.layers[0].kind == "recurrent"
    with pytest.raises(InputError) as err:
        read_inputs([tmp_path / "w_1.pt"], mapping={"X": ("a", "b")})
    assert "w_1.pt" in str(err.value) and "W, enc" in str(err.value)


def test_corrupt_and_unsafe_checkpoints(tmp_path: Path) -> None:
    good = tmp_path / "c_1.pt"
    torch.save(nn.Linear(2, 2).state_dict(), good)
    bad = tmp_path / "c_2.pt"
    bad.write_bytes(good.read_bytes()[:100])
    with pytest.raises(InputError, match=r"c_2\.pt.*truncated"):
        read_inputs([good, bad])
    unsafe = tmp_path / "c_3.pt"
    torch.save({"model": nn.Linear(2, 2)}, unsafe)  # a pickled module, refused by weights_only
    with pytest.raises(InputError, match=r"c_3\.pt.*state_dict"):
        read_inputs([unsafe])
    nothing = tmp_path / "c_4.pt"
    torch.save({"lr": 0.1}, nothing)
    with pytest.raises(InputError, match=r"c_4\.pt.*no state_dict"):
        read_inputs([nothing])


def test_shape_change_between_checkpoints(tmp_path: Path) -> None:
    torch.save(nn.Linear(3, 4).state_dict(), tmp_path / "s_1.pt")
    torch.save(nn.Linear(3, 5).state_dict(), tmp_path / "s_2.pt")
    with pytest.raises(InputError, match=r"s_1.pt.*3x4.*s_2.pt.*3x5"):
        read_inputs([tmp_path])
