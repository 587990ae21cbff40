"""The training loop: checkpoints, recorder calls, reproducible masks, clear errors."""

from typing import Any

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from sparsetopo.errors import InputError
from sparsetopo.training.loop import Trainer, train
from sparsetopo.training.models import build_model


class FakeRecorder:
    """Stands in for the Neo4j Recorder: reads module weights the way it does."""

    def __init__(self, module: nn.Module, name: str) -> None:
        self.module, self.name = module, name
        self.calls: list[dict[str, Any]] = []

    def snapshot(self, step: int, epoch: int | None = None,
                 metrics: dict[str, float] | None = None) -> None:
        w = getattr(self.module, self.name).detach()
        self.calls.append({"step": step, "epoch": epoch, "metrics": metrics,
                           "nnz": int(torch.count_nonzero(w))})


def test_checkpoints_and_recorder_calls() -> None:
    trainer = Trainer("seq-digits", "rnn", "gradual", sparsity=0.9, epochs=3, snapshot_every=2,
                      hidden=16, seed=0)
    rec = FakeRecorder(trainer.targets[0].module, "weight_hh_l0")
    result = trainer.run(recorder=rec)
    spe = trainer.steps_per_epoch
    assert spe == 45  # 1437 training digits in batches of 32
    assert [c["epoch"] for c in rec.calls] == [0, 2, 3]
    assert [c["step"] for c in rec.calls] == [0, 2 * spe, 3 * spe]
    assert list(result.history["epoch"]) == [0, 2, 3]
    for call in rec.calls:
        m = call["metrics"]
        # sparsity and n_edges are the store's own (graph-wide) columns: the strategy's figure
        # travels as strategy_sparsity
        assert {"test_loss", "accuracy", "strategy_sparsity"} <= set(m)
        assert not {"sparsity", "n_edges"} & set(m)
        # what the recorder reads is the masked matrix, edge for edge
        assert m["strategy_sparsity"] == pytest.approx(1 - call["nnz"] / 256)
    assert "loss" not in rec.calls[0]["metrics"] and "loss" in rec.calls[1]["metrics"]
    assert rec.calls[-1]["nnz"] == 256 - 230
    assert result.final_sparsity == pytest.approx(230 / 256)
    assert result.metric_name == "accuracy" and 0.0 <= result.final_metric <= 1.0


@pytest.mark.parametrize("strategy", [
    "gradual",
    *(pytest.param(s, marks=pytest.mark.slow) for s in ("set", "deepr", "balanced")),  # ~1.5 s each
])
def test_same_seed_same_masks(strategy: str) -> None:
    def masks(seed: int) -> dict[str, np.ndarray]:
        r = train("seq-digits", "rnn", strategy, sparsity=0.8, epochs=2, hidden=12, seed=seed,
                  strategy_options={"max_iters": 500} if strategy == "balanced" else None)
        return r.strategy.masks()

    a, b, c = masks(7), masks(7), masks(8)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_set_run_keeps_edge_count_at_every_checkpoint() -> None:
    r = train("seq-digits", "rnn", "set", sparsity=0.75, epochs=3, hidden=16)
    assert set(r.history["n_edges"]) == {64.0}


@pytest.mark.parametrize("model", ["ctrnn", "gru", "lstm"])
def test_recurrent_models_train_and_sparsify(model: str) -> None:
    r = train("seq-digits", model, "magnitude", sparsity=0.5, epochs=2, hidden=8,
              strategy_options={"at_epoch": 1})
    blocks = {"ctrnn": 1, "gru": 3, "lstm": 4}[model]
    assert r.strategy.n_edges() == blocks * 64 // 2
    assert list(r.history["sparsity"]) == [0.0, 0.5, 0.5]


def test_mlp_on_digits_scope_all() -> None:
    r = train("digits", "mlp", "iterative", sparsity=0.5, epochs=2, hidden=16)
    labels = r.config["sparsified"]
    assert labels == ["fc1.weight", "fc2.weight", "readout.weight"]
    # levels 0.15, 0.25, 0.35, 0.45, 0.5 in 2 epochs: all fall on epoch 1 (highest wins)
    assert r.strategy.n_edges() == (64 * 16 + 16 * 16 + 16 * 10) // 2


def test_own_model_data_and_loss() -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 5)
    y = (x[:, 0] > 0).long()
    data = (DataLoader(TensorDataset(x, y), batch_size=16), DataLoader(TensorDataset(x, y)))
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    r = train(None, None, "magnitude", sparsity=0.5, epochs=2, model_obj=net, data=data,
              loss_fn=F.cross_entropy)
    assert r.metric_name == "loss" and r.config["model"] == "Sequential"
    assert r.strategy.n_edges() == (40 + 16) // 2


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(InputError, match="seq-digits"):
        train("cifar10", "rnn", "gradual")  # mnist is a task now (IDX files)
    with pytest.raises(InputError, match="lstm"):
        train("seq-digits", "mamba", "gradual")
    with pytest.raises(InputError, match="deepr"):
        train("seq-digits", "rnn", "lottery")
    with pytest.raises(InputError, match="zeta"):
        train("seq-digits", "rnn", "set", strategy_options={"zetta": 0.1})
    with pytest.raises(InputError, match="mlp"):
        train("digits", "rnn", "gradual")
    with pytest.raises(InputError, match=r"\[0, 1\)"):
        train("seq-digits", "rnn", "gradual", sparsity=1.0)
    with pytest.raises(InputError):
        build_model("mlp", 3, 4, 2, output="all")
