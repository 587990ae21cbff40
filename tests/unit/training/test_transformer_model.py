"""The built-in transformer model: traceable by torch.fx (no example input needed), attention
mapped by the graph rules, every matrix sparsifiable."""

from __future__ import annotations

import warnings

import torch

from sparsetopo.ingest.extract import ModelGraph
from sparsetopo.training.models import build_model, sparsifiable


def test_transformer_model_is_traced_and_sparsifiable() -> None:
    model = build_model("transformer", 8, 14, 10)
    assert model(torch.randn(3, 5, 8)).shape == (3, 10)
    assert model(torch.randn(3, 8)).shape == (3, 10)  # flat input: one step
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph = ModelGraph(model)
    assert graph.traced_with == "torch.fx"
    spec = {s.name: s for s in graph.architecture.layers}
    assert spec["embed.weight"].n_out == 16  # 14 rounded up to a multiple of 4 heads
    assert spec["blocks.1.attn.out_proj.weight"].src_group == "blocks.1.attn.v"
    assert spec["blocks.1.fc2.weight"].dst_group == "embed"
    labels = {t.label for t in sparsifiable(model, "all")}
    assert {"blocks.0.attn.in_proj_weight", "blocks.0.fc1.weight", "readout.weight"} <= labels
