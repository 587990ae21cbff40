"""`read_inputs(layers=...)` / `sparsetopo ingest --layers`: a glob subset of a checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sparsetopo.errors import InputError
from sparsetopo.ingest.importers import read_inputs


def _checkpoint(path: Path) -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    torch.save(net.state_dict(), path)


def test_layers_keeps_the_matching_layers_and_their_groups(tmp_path: Path) -> None:
    _checkpoint(tmp_path / "ckpt_1.pt")
    plan = read_inputs([tmp_path / "ckpt_1.pt"], layers=["2.*"])
    assert [s.name for s in plan.architecture.layers] == ["2.weight"]
    assert plan.architecture.groups == {"0": 5, "2": 3}
    (snap,) = plan.snapshots()
    assert set(snap.layers) == {"2.weight"} and snap.n_edges == 15


def test_a_glob_matching_nothing_is_one_line_naming_valid_layers(tmp_path: Path) -> None:
    _checkpoint(tmp_path / "ckpt_1.pt")
    with pytest.raises(InputError) as info:
        read_inputs([tmp_path / "ckpt_1.pt"], layers=["encoder.*"])
    message = str(info.value)
    assert "\n" not in message and "'encoder.*' matches no layer" in message
    assert "0.weight, 2.weight" in message
