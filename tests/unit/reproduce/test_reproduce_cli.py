"""`sparsetopo reproduce` refuses bad input with one line, before connecting or training."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sparsetopo.cli.main import app
from sparsetopo.reproduce import PAPER_NAMES, estimate_seconds, plan
from tests.support.extras import requires


@pytest.mark.parametrize(("args", "message"), [
    (["reproduce", "nosuch"], "unknown paper 'nosuch'"),
    (["reproduce", "liu2020", "--quick", "--full"], "choose one of --quick and --full"),
    (["reproduce", "liu2020", "--seeds", "0"], "--seeds must be >= 1"),
])
def test_bad_input_is_one_line_and_exit_1(args, message, tmp_path, monkeypatch) -> None:
    # no server is configured: the error must come before any connection attempt
    monkeypatch.setenv("SPARSETOPO_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_run_names_and_plans() -> None:
    requires("torch")  # a plan builds the papers' training configurations
    plans = plan("all", "quick")
    assert list(plans) == list(PAPER_NAMES)
    names = [s.name("repro") for specs in plans.values() for s in specs]
    assert len(names) == len(set(names))
    assert "repro-liu2020-set-s0" in names
    assert "repro-zhang2023-seq-digits-prune-s2" in names
    # --seeds overrides the paper's default; keys differ between configurations
    liu = plan("liu2020", "quick", seeds=2)["liu2020"]
    assert [(s.condition, s.seed) for s in liu] == [
        ("set", 0), ("set", 1), ("static", 0), ("static", 1), ("dense", 0), ("dense", 1)]
    assert len({s.key() for s in liu}) == 6
    assert estimate_seconds("all", "full") > estimate_seconds("all", "quick")
    # the GPU estimate divides the training part only
    assert estimate_seconds("all", "full", device="cuda") < estimate_seconds("all", "full")


def test_paper_designs() -> None:
    plans = plan("all", "full")
    # Liu: a chain of starts, run k perturbed k times from one topology seed
    liu = [s for s in plans["liu2020"] if s.condition == "set"]
    assert [s.train["strategy_options"]["perturb_steps"] for s in liu] == list(range(10))
    assert len({s.train["strategy_options"]["topology_seed"] for s in liu}) == 1
    # Mackey: the authors' nine conditions at 90 % and 98 %, DoG inverted, their sizes
    mk = plans["mackey2024"]
    conds = {s.condition for s in mk}
    assert {"torus-square", "torus-dog", "klein-dog", "sphere-dog", "circle-dog", "torus6-dog",
            "l1", "none", "torus-dog-permuted"} <= conds
    assert {s.train["sparsity"] for s in mk} == {0.9, 0.98}
    for s in mk:
        so = s.train["strategy_options"]
        assert so.get("invert", False) == (so.get("function") == "dog")
        assert (s.train["hidden"], s.train["lr"], s.train["batch_size"]) == (4096, 1e-4, 200)
        assert s.rnn_nonlinearity == "relu" and s.train["epochs"] == 30
    assert {s.seed for s in mk} == set(range(5))
    # Zhang: 150 units in full mode, sign-fixed balanced / random topologies
    zh = plans["zhang2023"]
    assert {s.train["hidden"] for s in zh} == {150}
    assert all(s.train["strategy_options"]["fix_signs"] for s in zh if s.strategy == "balanced")


def test_full_mode_uses_mnist_when_the_data_dir_holds_it(tmp_path) -> None:
    from sparsetopo.reproduce import get_paper

    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / stem).write_bytes(b"")
    liu = plan("liu2020", "full", data_dir=tmp_path)["liu2020"]
    assert {s.task for s in liu} == {"mnist"}
    assert "MNIST from" in get_paper("liu2020").data_note("full", str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert {s.task for s in plan("liu2020", "full", data_dir=empty)["liu2020"]} == {"digits"}
    assert "substitute" in get_paper("liu2020").data_note("full", str(empty))
    zh = plan("zhang2023", "full", data_dir=tmp_path)["zhang2023"]
    assert "seq-mnist" in {s.task for s in zh}


def test_device_and_data_dir_are_checked_before_any_work(tmp_path, monkeypatch) -> None:
    import torch

    monkeypatch.setenv("SPARSETOPO_HOME", str(tmp_path / "home"))
    r = CliRunner().invoke(app, ["reproduce", "liu2020", "--data-dir", str(tmp_path / "no")])
    assert r.exit_code == 1 and "--data-dir" in r.output and "Traceback" not in r.output
    if not torch.cuda.is_available():
        r = CliRunner().invoke(app, ["reproduce", "liu2020", "--device", "cuda"])
        assert r.exit_code == 1 and "no CUDA device" in r.output
