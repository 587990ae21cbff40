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
    assert [s.seed for s in liu] == [0, 1]
    assert len({s.key() for s in liu}) == 2
    assert estimate_seconds("all", "full") > estimate_seconds("all", "quick")
