"""Conv layers become channel graphs (kernel reduced to sum; cancelling kernels kept)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.extras import requires

torch = requires("torch")

from torch import nn

from sparsetopo.ingest.extract import ModelGraph, reduce_conv_kernel


def test_hand_made_kernel_reduction() -> None:
    conv = nn.Conv2d(2, 3, kernel_size=2, bias=False)
    k = torch.zeros(3, 2, 2, 2)
    k[0, 0] = torch.tensor([[1.0, 2.0], [0.0, 0.5]])  # sum 3.5
    k[1, 1] = torch.tensor([[-1.0, 0.0], [0.0, -0.25]])  # sum -1.25
    k[2, 0] = torch.tensor([[1.0, -1.0], [0.0, 0.0]])  # cancels; dominant entry (first max) 1.0
    k[2, 1] = torch.tensor([[0.5, -2.0], [1.5, 0.0]])  # cancels; dominant entry -2.0
    with torch.no_grad():
        conv.weight.copy_(k)
    g = ModelGraph(nn.Sequential(conv))
    spec = g.architecture.layers[0]
    assert (spec.kind, spec.n_in, spec.n_out) == ("conv", 2, 3)
    assert g.architecture.groups == {"input": 2, "0": 3}
    e = g.snapshot().layers["0.weight"]
    got = {(int(s), int(d)): float(w) for s, d, w in zip(e.src, e.dst, e.w, strict=True)}
    assert got == {(0, 0): 3.5, (1, 1): -1.25, (0, 2): 1.0, (1, 2): -2.0}


def test_grouped_conv_is_block_diagonal() -> None:
    w = torch.arange(1, 1 + 4 * 1 * 3, dtype=torch.float32).reshape(4, 1, 3)  # in=2, groups=2
    m = reduce_conv_kernel(w, groups=2).numpy()
    sums = w.sum(dim=-1)[:, 0].numpy()
    expected = np.zeros((2, 4), dtype=np.float32)
    expected[0, :2] = sums[:2]
    expected[1, 2:] = sums[2:]
    np.testing.assert_array_equal(m, expected)


class ConvNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv1d(3, 4, 3)
        self.fc = nn.Linear(4 * 6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(torch.relu(self.c1(x)), 1))


def test_flatten_after_conv_gets_its_own_group() -> None:

    with pytest.warns(UserWarning, match="separate group"):
        arch = ModelGraph(ConvNet()).architecture
    spec = {s.name: s for s in arch.layers}
    assert spec["c1.weight"].src_group == "input" and arch.groups["c1"] == 4
    assert arch.groups[spec["fc.weight"].src_group] == 24
