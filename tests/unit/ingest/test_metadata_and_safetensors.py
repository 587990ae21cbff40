"""Imported runs carry their metadata; safetensors checkpoints import like .pt state dicts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sparsetopo.errors import InputError
from sparsetopo.ingest.metadata import read_metrics_file, sidecar_metadata
from tests.support.extras import requires

ZHANG = Path(__file__).resolve().parents[2] / "data" / "zhang2023-sparse-rnn" / "MNIST"
STEPS = list(range(0, 201, 5))


def test_zhang_folder_accuracy_and_hyperparameters():
    folder = ZHANG / "pruning_n_150_p_0.05"
    accuracy = [float(x) for x in (folder / "test_accuracy.txt").read_text().split()]
    found = sidecar_metadata([folder], STEPS)
    # 40 values for 41 snapshots: the first snapshot (before training) has none
    assert sorted(found.metrics) == STEPS[1:]
    assert [found.metrics[s]["test_accuracy"] for s in STEPS[1:]] == accuracy
    hp = json.loads((folder / "hp.json").read_text())
    assert found.strategy == hp["pruning_algorithm"] == "Pruning_1"
    assert found.config["hyperparameters"]["n_hidden"] == 150
    assert "w_rec_mask" not in found.config["hyperparameters"]  # the mask is not metadata
    assert found.config["hyperparameters"]["learning_rate"] == hp["learning_rate"]
    assert sidecar_metadata([ZHANG / "SET_n_150_p_0.05_zeta_0.2"], STEPS).strategy == "SET"


def test_metrics_files(tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_text("step,val_loss,acc\n0,1.5,0.1\n10,0.5,\n")
    assert read_metrics_file(csv, [0, 10]) == {0: {"val_loss": 1.5, "acc": 0.1},
                                              10: {"val_loss": 0.5}}
    js = tmp_path / "m.json"
    js.write_text(json.dumps({"0": {"eval/acc": 0.2}, "10": {"eval/acc": 0.3}}))
    assert read_metrics_file(js, [0, 10]) == {0: {"eval_acc": 0.2}, 10: {"eval_acc": 0.3}}
    txt = tmp_path / "loss.txt"
    txt.write_text("3\n2\n1\n")
    assert read_metrics_file(txt, [10, 0, 5]) == {0: {"loss": 3.0}, 5: {"loss": 2.0},
                                                  10: {"loss": 1.0}}
    with pytest.raises(InputError, match="3 values for 5 snapshots"):
        read_metrics_file(txt, [0, 1, 2, 3, 4])
    with pytest.raises(InputError, match=r"steps \[10\] are not among"):
        read_metrics_file(csv, [0, 5])
    bad = tmp_path / "bad.csv"
    bad.write_text("epoch,acc\n1,2\n")
    with pytest.raises(InputError, match="'step' column"):
        read_metrics_file(bad, [1])
    with pytest.raises(InputError, match="not a number"):
        (tmp_path / "x.txt").write_text("0.5\nNaNa\n")
        read_metrics_file(tmp_path / "x.txt", [0, 1])


def test_safetensors_matches_the_pt_import(tmp_path):
    torch = requires("torch")
    safetensors_torch = requires("safetensors.torch")
    from sparsetopo.ingest.importers import read_inputs

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    with torch.no_grad():
        model[0].weight[model[0].weight.abs() < 0.3] = 0.0
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    safetensors_torch.save_file(state, tmp_path / "ckpt_3.safetensors")
    torch.save(state, tmp_path / "ckpt_3.pt")
    a = read_inputs([tmp_path / "ckpt_3.safetensors"])
    b = read_inputs([tmp_path / "ckpt_3.pt"])
    assert a.format == "safetensors" and a.architecture == b.architecture
    assert [i.step for i in a.items] == [3]
    (sa,), (sb,) = list(a.snapshots()), list(b.snapshots())
    for name, e in sb.layers.items():
        assert np.array_equal(sa.layers[name].src, e.src) and np.allclose(sa.layers[name].w, e.w)
    assert len(sa.layers["0.weight"]) == int((model[0].weight != 0).sum())
    (tmp_path / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00not json")
    with pytest.raises(InputError, match="not a readable safetensors file"):
        list(read_inputs([tmp_path / "broken.safetensors"]).snapshots())
