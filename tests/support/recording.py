"""A tiny MLP pruned step by step, and the check that a run stores exactly its weights: shared by
the Recorder outage and reliability tests (they check for torch before importing this)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.server.config import ConnectionInfo


def mlp(seed: int) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(12, 10), torch.nn.ReLU(), torch.nn.Linear(10, 4))


def prune_step(model: torch.nn.Sequential, step: int) -> dict[str, np.ndarray]:
    """Change the model deterministically and return its weights as (in, out) matrices."""
    gen = torch.Generator().manual_seed(1000 + step)
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.weight.mul_((torch.rand(layer.weight.shape, generator=gen) > 0.15).float())
            layer.weight.add_(0.01 * (layer.weight != 0).float())
    return {"0.weight": model[0].weight.detach().numpy().T.copy(),
            "2.weight": model[2].weight.detach().numpy().T.copy()}


def assert_stored(driver, run: str, expected: dict[int, dict[str, np.ndarray]]) -> None:
    snaps = list_snapshots(driver, run)
    assert [s["step"] for s in snaps] == sorted(expected)
    for step, layers in expected.items():
        back = read_snapshot(driver, run, step=step)
        for name, dense in layers.items():
            got = back.layers[name].to_dense(*dense.shape)
            np.testing.assert_array_equal(got, dense)


def via(proxy: Any, server: Any) -> ConnectionInfo:
    """The managed server's connection, through a fault proxy."""
    return ConnectionInfo(proxy.uri, "neo4j", server.password(), None, managed=False)
