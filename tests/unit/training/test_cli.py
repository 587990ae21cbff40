"""`sparsetopo train` without a database."""

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from sparsetopo.cli.train import register

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Group callback so `train` stays a sub-command, as in the real app."""


register(app)
runner = CliRunner()


def test_help_teaches() -> None:
    res = runner.invoke(app, ["train", "--help"], terminal_width=120)
    assert res.exit_code == 0
    for word in ("seq-digits", "inverse-control", "ctrnn", "balanced", "recurrent", "--no-store"):
        assert word in res.output


def test_no_store_json_with_config(tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text('task = "seq-digits"\nstrategy = "set"\nhidden = 8\nepochs = 1\n'
                   'sparsity = 0.5\n[strategy_options]\nzeta = 0.2\n')
    res = runner.invoke(app, ["train", "--config", str(cfg), "--epochs", "2", "--no-store",
                              "--json", "--run", "cli-test"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["run"] == "cli-test" and out["stored"] is False
    assert out["epochs"] == 2 and out["strategy"] == "set"  # flag beats file
    assert out["strategy_options"] == {"zeta": 0.2} and out["n_edges"] == 32
    assert out["checkpoints"] == 3


def test_json_config_and_bad_name(tmp_path: Path) -> None:
    cfg = tmp_path / "run.json"
    cfg.write_text(json.dumps({"task": "seq-digits", "strategy": "nope", "store": False}))
    res = runner.invoke(app, ["train", "--config", str(cfg)])
    assert res.exit_code == 2
    assert "gradual" in res.output  # the error lists the valid strategies
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tsk": "x"}))
    res = runner.invoke(app, ["train", "--config", str(bad)])
    assert res.exit_code == 2 and "tsk" in res.output
