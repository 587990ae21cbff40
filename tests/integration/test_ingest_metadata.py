"""`sparsetopo ingest --task/--model/--strategy --metrics` and the Zhang result folders'
accuracy files, against the real store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sparsetopo.api.store import Store
from sparsetopo.cli.main import app
from sparsetopo.graphstore.runs import find_run

FOLDER = Path(__file__).parents[1] / "data" / "zhang2023-sparse-rnn" / "MNIST" / "pruning_n_150_p_0.05"


def test_ingest_carries_metadata_and_accuracy(driver, run_name, tmp_path):
    accuracy = [float(x) for x in (FOLDER / "test_accuracy.txt").read_text().split()]
    extra = tmp_path / "extra.csv"
    extra.write_text("step,val_loss\n100,0.25\n200,0.125\n")
    r = CliRunner().invoke(app, ["ingest", str(FOLDER), "--run", run_name, "--task", "seq-mnist",
                                 "--model", "vanilla-rnn-150", "--metrics", str(extra), "--json"])
    assert r.exit_code == 0, r.output
    run = find_run(driver, run_name)
    assert (run["task"], run["model"], run["strategy"]) == ("seq-mnist", "vanilla-rnn-150",
                                                            "Pruning_1")
    assert json.loads(run["config_json"])["hyperparameters"]["prob"] == 0.05
    h = Store(driver).history(run_name)
    assert h["test_accuracy"].isna().tolist() == [True] + [False] * 40
    assert h["test_accuracy"].iloc[1:].tolist() == accuracy
    assert h["val_loss"].dropna().to_dict() == {100: 0.25, 200: 0.125}


def test_bad_metrics_file_writes_nothing(driver, run_name, tmp_path):
    bad = tmp_path / "acc.txt"
    bad.write_text("0.5\n0.6\n")
    r = CliRunner().invoke(app, ["ingest", str(FOLDER), "--run", run_name, "--metrics", str(bad)])
    assert r.exit_code != 0
    assert "2 values for 41 snapshots" in r.output
    assert find_run(driver, run_name) is None
