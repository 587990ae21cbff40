"""`sparsetopo train` and `sparsetopo demo` against the real store (small settings)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from sparsetopo.cli.main import app
from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.graphstore.runs import run_architecture

pytestmark = pytest.mark.torch
runner = CliRunner()


def test_train_stores_every_checkpoint(driver, run_name):
    result = runner.invoke(app, [
        "train", "--task", "seq-digits", "--model", "rnn", "--strategy", "gradual",
        "--sparsity", "0.75", "--epochs", "3", "--snapshot-every", "1", "--hidden", "12",
        "--run", run_name, "--seed", "1", "--json", "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    snaps = list_snapshots(driver, run_name)
    assert [s["epoch"] for s in snaps] == [0, 1, 2, 3]
    assert all({"accuracy", "test_loss", "strategy_sparsity"} <= set(s) for s in snaps)
    # the recurrent matrix ends with exactly the kept fraction of its 144 weights
    arch = run_architecture(driver, run_name)
    recurrent = next(s for s in arch.layers if s.kind == "recurrent")
    last = read_snapshot(driver, run_name).layers[recurrent.name]
    assert len(last) == 144 - int(np.floor(0.75 * 144 + 0.5))
    assert snaps[-1]["strategy_sparsity"] == pytest.approx(1 - len(last) / 144)
    assert summary["final_metric"] == pytest.approx(snaps[-1]["accuracy"])


def test_demo_end_to_end(driver, run_name, tmp_path):
    result = runner.invoke(app, ["demo", "--run", run_name, "--epochs", "2", "--hidden", "12",
                                 "--n-null", "5", "--plots", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    stdout = result.stdout
    rows = json.loads(stdout[stdout.index("["):stdout.index("]") + 1])
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert all(r["FFL balance"] is None or 0 <= r["FFL balance"] <= 1 for r in rows)
    assert rows[0]["NNSTD to first"] == 0.0
    assert {p.name for p in (tmp_path / run_name).glob("*.png")} >= {"balance.png"}
    assert "/browser/" in stdout and ":param run" in stdout
    # the ending: the Browser's address and two commands that open the guide, not the queries
    ending = stdout[stdout.index("Neo4j Browser:"):].splitlines()
    assert f":param run => '{run_name}'" in stdout and ":play http" in stdout
    assert "guide.html" in stdout and "MATCH" not in "\n".join(ending)
    assert len([line for line in ending if line.strip()]) <= 8, ending  # was ~40 lines
    assert len(list_snapshots(driver, run_name)) == 3
