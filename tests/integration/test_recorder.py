"""The Recorder against a real server: masks and metrics. (Outages: test_recorder_outages.py
through a proxy; a real stop and kill -9 of the server under a Recorder: the fault campaign.)"""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from torch.nn.utils import prune

from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.ingest.recorder import Recorder

pytestmark = pytest.mark.torch


def _mlp(seed: int = 0) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5))


def test_recorder_reads_prune_masks(driver, run_name):
    model = _mlp()
    prune.l1_unstructured(model[0], "weight", amount=0.7)
    prune.random_unstructured(model[2], "weight", amount=0.5)
    with Recorder(model, run=run_name, task="unit", strategy="magnitude") as rec:
        rec.snapshot(0, metrics={"loss": 2.5})
        prune.l1_unstructured(model[0], "weight", amount=0.5)  # prunes further
        rec.snapshot(1, metrics={"loss": torch.tensor(1.25)})
    snaps = list_snapshots(driver, run_name)
    assert [s["step"] for s in snaps] == [0, 1]
    assert [s["loss"] for s in snaps] == [2.5, 1.25]
    expected_edges = int((model[0].weight != 0).sum() + (model[2].weight != 0).sum())
    assert snaps[1]["n_edges"] == expected_edges
    back = read_snapshot(driver, run_name, step=1)
    # nn.Linear stores (out, in); the graph is (in, out)
    np.testing.assert_array_equal(back.layers["0.weight"].to_dense(20, 16),
                                  model[0].weight.detach().numpy().T)
    np.testing.assert_array_equal(back.layers["2.weight"].to_dense(16, 5),
                                  model[2].weight.detach().numpy().T)


def test_recorder_refuses_decreasing_steps(run_name):
    with Recorder(_mlp(), run=run_name) as rec:
        rec.snapshot(3)
        with pytest.raises(ValueError, match="not larger"):
            rec.snapshot(2)
