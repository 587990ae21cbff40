"""ModelGraph on recurrent models, pruned and parametrized weights."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from torch import nn
from torch.nn.utils import parametrize, prune

from sparsetopo.ingest.extract import ModelGraph
from tests.support.torch_utils import tensor


def _dense(edges, n_in: int, n_out: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    return edges.to_dense(n_in, n_out)


def test_rnn_input_recurrent_and_self_loops() -> None:
    rnn = nn.RNN(3, 4)
    with torch.no_grad():
        tensor(rnn, "weight_hh_l0").copy_(torch.diag(torch.tensor([1.0, -2.0, 0.0, 3.0])))
        tensor(rnn, "weight_hh_l0")[0, 3] = 0.5  # torch row 0 = target 0, column 3 = source 3
    g = ModelGraph(rnn)
    spec = {s.name: s for s in g.architecture.layers}
    assert (spec["weight_ih_l0"].src_group, spec["weight_ih_l0"].dst_group) == ("input", "hidden")
    assert spec["weight_ih_l0"].kind == "input"
    hh = spec["weight_hh_l0"]
    assert (hh.src_group, hh.dst_group, hh.kind, hh.gate) == ("hidden", "hidden", "recurrent", None)
    e = g.snapshot().layers["weight_hh_l0"]
    assert list(zip(e.src.tolist(), e.dst.tolist(), e.w.tolist(), strict=True)) == [
        (0, 0, 1.0),
        (1, 1, -2.0),
        (3, 0, 0.5),
        (3, 3, 3.0),
    ]


@pytest.mark.parametrize(("cls", "gates"), [(nn.GRU, "rzn"), (nn.LSTM, "ifgo")])
def test_gate_slices_match_stacked_rows(cls: type[nn.GRU] | type[nn.LSTM], gates: str) -> None:
    hidden = 5
    cell = cls(3, hidden)
    g = ModelGraph(cell)
    cap = g.capture()
    names = [s.name for s in g.architecture.layers]
    assert names == [f"weight_ih_l0.{x}" for x in gates] + [f"weight_hh_l0.{x}" for x in gates]
    for k, gate in enumerate(gates):
        spec = g.architecture.layer(f"weight_hh_l0.{gate}")
        assert spec.gate == gate and (spec.n_in, spec.n_out) == (hidden, hidden)
        rows = tensor(cell, "weight_hh_l0").detach().numpy()[k * hidden : (k + 1) * hidden]
        np.testing.assert_array_equal(cap[f"weight_hh_l0.{gate}"], rows.T)
        rows_ih = tensor(cell, "weight_ih_l0").detach().numpy()[k * hidden : (k + 1) * hidden]
        np.testing.assert_array_equal(cap[f"weight_ih_l0.{gate}"], rows_ih.T)


class Seq(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(3, 6, num_layers=2, batch_first=True)
        self.out = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.rnn(x)
        return self.out(y[:, -1])


def test_multilayer_rnn_with_readout() -> None:
    arch = ModelGraph(Seq()).architecture
    assert arch.groups == {"input": 3, "rnn.l0": 6, "rnn.l1": 6, "out": 2}
    spec = {s.name: s for s in arch.layers}
    assert spec["rnn.weight_ih_l1.z"].src_group == "rnn.l0"
    assert spec["rnn.weight_ih_l1.z"].dst_group == "rnn.l1"
    assert spec["rnn.weight_hh_l1.n"].src_group == "rnn.l1"
    assert (spec["out.weight"].src_group, spec["out.weight"].kind) == ("rnn.l1", "readout")
    assert arch.is_recurrent


def test_prune_mask_respected_even_when_weight_attribute_is_stale() -> None:
    lin = nn.Linear(8, 6)
    net = nn.Sequential(lin)
    prune.random_unstructured(lin, "weight", amount=0.5)
    orig, mask_t = tensor(lin, "weight_orig"), tensor(lin, "weight_mask")
    mask = mask_t.detach().numpy().T
    with torch.no_grad():  # an optimiser step: weight_orig changes, module.weight is stale
        orig.add_(0.25)
    g = ModelGraph(net)
    assert [s.name for s in g.architecture.layers] == ["0.weight"]
    e = g.snapshot().layers["0.weight"]
    present = np.zeros_like(mask, dtype=bool)
    present[e.src, e.dst] = True
    np.testing.assert_array_equal(present, (mask != 0) & (orig.detach().numpy().T != 0))
    assert not present[mask == 0].any()
    expected = (orig * mask_t).detach().numpy().T
    np.testing.assert_array_equal(e.w, expected[e.src, e.dst])


def test_prune_on_rnn_recurrent_matrix() -> None:
    rnn = nn.RNN(2, 10)
    prune.l1_unstructured(rnn, "weight_hh_l0", amount=0.7)
    e = ModelGraph(rnn).snapshot().layers["weight_hh_l0"]
    assert len(e) == int(tensor(rnn, "weight_hh_l0_mask").sum()) == 30


class Halve(nn.Module):
    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return torch.triu(w) * 0.5


def test_parametrization_value_is_used() -> None:
    lin = nn.Linear(4, 4)
    net = nn.Sequential(lin)
    parametrize.register_parametrization(lin, "weight", Halve())
    plumbing: object = lin.parametrizations
    original = tensor(getattr(plumbing, "weight"), "original")  # noqa: B009
    g = ModelGraph(net)
    assert [s.name for s in g.architecture.layers] == ["0.weight"]
    cap = g.capture()["0.weight"]
    expected = (torch.triu(original) * 0.5).detach().numpy().T
    np.testing.assert_array_equal(cap, expected)
    assert len(g.snapshot().layers["0.weight"]) == int((expected != 0).sum()) == 10
