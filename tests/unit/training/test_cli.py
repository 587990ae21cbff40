"""`sparsetopo train` without a database."""

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from tests.support.extras import requires

requires("torch")

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
    # The command line's contract (docs/cli.md): a failed operation, bad input included, exits 1
    # with one "error:" line on stderr and no traceback; 2 is left to Click's usage errors.
    cfg = tmp_path / "run.json"
    cfg.write_text(json.dumps({"task": "seq-digits", "strategy": "nope", "store": False}))
    res = runner.invoke(app, ["train", "--config", str(cfg)])
    assert res.exit_code == 1
    assert "gradual" in res.stderr  # the error lists the valid strategies
    assert res.stderr.startswith("error:") and "Traceback" not in res.output
    assert res.stdout == ""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tsk": "x"}))
    res = runner.invoke(app, ["train", "--config", str(bad)])
    assert res.exit_code == 1 and "tsk" in res.stderr and res.stderr.startswith("error:")
    assert "Traceback" not in res.output


def test_usage_errors_exit_2() -> None:
    res = runner.invoke(app, ["train", "--epochs", "many"])
    assert res.exit_code == 2 and "epochs" in res.output
    res = runner.invoke(app, ["train", "--option", "zeta"])  # not key=value: bad input, exit 1
    assert res.exit_code == 1 and "--option 'zeta' is not of the form name=value" in res.stderr


def test_device_option() -> None:
    import torch

    res = runner.invoke(app, ["train", "--task", "digits", "--model", "mlp", "--strategy", "set",
                              "--epochs", "1", "--hidden", "8", "--no-store", "--json",
                              "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["device"] == "cpu"
    if not torch.cuda.is_available():
        bad = runner.invoke(app, ["train", "--no-store", "--device", "cuda", "--epochs", "1"])
        assert bad.exit_code == 1 and "no CUDA device" in bad.output
    wrong = runner.invoke(app, ["train", "--no-store", "--device", "tpu"])
    assert wrong.exit_code == 2  # not one of the choices: a usage error
