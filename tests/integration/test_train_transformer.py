"""`sparsetopo train --model transformer` trains and records a small encoder (issue 21)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sparsetopo.cli.main import app
from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.graphstore.runs import run_architecture

pytestmark = pytest.mark.torch


def test_train_transformer_records_attention_layers(driver, run_name):
    result = CliRunner().invoke(app, [
        "train", "--task", "seq-digits", "--model", "transformer", "--strategy", "magnitude",
        "--sparsity", "0.9", "--epochs", "1", "--hidden", "16", "--run", run_name,
        "--json", "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    assert len(list_snapshots(driver, run_name)) == 2
    arch = run_architecture(driver, run_name)
    roles = {s.name: s.role for s in arch.layers}
    assert roles["blocks.0.attn.in_proj_weight.v"] == "v"
    out = next(s for s in arch.layers if s.name == "blocks.0.attn.out_proj.weight")
    assert (out.src_group, out.dst_group) == ("blocks.0.attn.v", "embed")  # residual stream
    last = read_snapshot(driver, run_name)
    # one-shot magnitude pruning to 90% of every matrix the strategy sparsifies
    total = sum(s.n_in * s.n_out for s in arch.layers)
    kept = sum(len(e) for e in last.layers.values())
    assert kept == pytest.approx(0.1 * total, rel=0.05)
