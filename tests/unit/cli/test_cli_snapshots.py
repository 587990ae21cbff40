"""The terminal output of the commands, at 80 and 120 columns, against stored snapshots.

A fake store stands in for the database (the output is what is tested, not the queries).
Regenerate the snapshots after an intended change with
``SPARSETOPO_UPDATE_SNAPSHOTS=1 pytest tests/unit/cli/test_cli_snapshots.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
from typer.testing import CliRunner

from sparsetopo.cli import analyze as analyze_cli
from sparsetopo.cli import common
from sparsetopo.cli import runs as runs_cli
from sparsetopo.cli.common import fmt_column, one_line
from sparsetopo.cli.main import app
from sparsetopo.errors import InputError
from sparsetopo.queries.library import get_query, library

SNAPSHOTS = Path(__file__).parent / "snapshots"
WIDTHS = (80, 120)
runner = CliRunner()


class FakeStore:
    """What the commands read, for a pruned RNN of three snapshots."""

    config: ClassVar[dict[str, Any]] = {"task": "seq-digits", "model": "rnn", "strategy": "gradual", "sparsity": 0.9,
                                        "sparsified": ["W_hh"], "epochs": 20, "lr": 0.01,
                                        "hidden": 64, "strategy_options": {"begin": 0.1}}

    def __enter__(self) -> FakeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def runs(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"name": "demo-seq-digits", "run_id": 1, "created_at": "2026-12-03T19:00:00Z",
             "model": "rnn", "task": "seq-digits", "strategy": "gradual", "status": "complete",
             "snapshots": 3, "last_step": 2.0, "min_sparsity": 0.0, "max_sparsity": 0.7012345,
             "writer": "plugin"},
            {"name": "zhang-prune", "run_id": 2, "created_at": "2026-12-03T19:05:00Z",
             "model": None, "task": None, "strategy": "pruning", "status": "complete",
             "snapshots": 41, "last_step": 200.0, "min_sparsity": 0.0, "max_sparsity": 0.9,
             "writer": "cypher"}])

    def cypher(self, text: str, **params: Any) -> pd.DataFrame:
        return pd.DataFrame([["demo-seq-digits", json.dumps(self.config)],
                             ["zhang-prune", None]], columns=["name", "config"])

    def run_configs(self) -> dict[str, str | None]:
        return {"demo-seq-digits": json.dumps(self.config), "zhang-prune": None}

    def run_info(self, name: str) -> dict[str, Any]:
        snaps = [{"step": float(k), "seq": k, "epoch": k, "n_edges": 4096 - 1400 * k,
                  "sparsity": 0.35 * k, "strategy_sparsity": 0.45 * k, "births": 0,
                  "deaths": 1400 * k, "sign_flips": 0, "accuracy": [0.1, 0.068, 0.142][k],
                  "run_id": 1, "complete": True} for k in range(3)]
        return {"run": {"name": name, "task": "seq-digits", "strategy": "gradual",
                        "model": "rnn", "status": "complete",
                        "config_json": json.dumps(self.config)},
                "layers": [{"name": "W_hh", "kind": "recurrent", "gate": None,
                            "src_group": "hidden", "dst_group": "hidden", "n_in": 64,
                            "n_out": 64}],
                "snapshots": snaps}

    def history(self, run: str, stats: Any = None, **_: Any) -> pd.DataFrame:
        return pd.DataFrame({
            "n_edges": [4096, 2696, 1296], "sparsity": [0.0, 0.35, 0.7012345],
            "accuracy": [0.1, 0.068, 0.142], "ffl_balance": [0.5012, 0.61234567, 0.7],
            "ffl_balance_null": [0.5, 0.5, 0.5], "ffl_balance_z": [0.1, 12.345678, 30.0],
            "motif_z_se_max": [0.81, 0.92, 1.3]}, index=pd.Index([0, 1, 2], name="step"))


@pytest.fixture(params=WIDTHS)
def width(request, monkeypatch):
    w = request.param
    for console in (common.console, common.err_console):
        monkeypatch.setattr(console, "_width", w)
    monkeypatch.setattr(runs_cli, "open_store", FakeStore)
    monkeypatch.setattr(analyze_cli, "open_store", FakeStore)
    return w


def snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("SPARSETOPO_UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert path.exists(), f"no snapshot {path}; run with SPARSETOPO_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"{name} differs from {path}"


def run(args: list[str], width: int) -> str:
    res = runner.invoke(app, args, env={"COLUMNS": str(width)}, terminal_width=width)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert all(len(line.rstrip()) <= width for line in lines), args
    return res.stdout


def test_query_list_wraps_descriptions_at_word_boundaries(width):
    out = run(["query", "--list"], width)
    snapshot(f"query-list-{width}", out)
    words = set(re.findall(r"[^\s│┃]+", out))
    for q in library().values():
        assert q.name in words  # names never wrap
        first = analyze_cli._first_sentence(q.title)
        for word in first.split():  # every word of the description appears whole
            assert word in words, (q.name, word)


def test_runs_names_both_sparsities_and_prints_whole_steps(width):
    out = run(["runs"], width)
    snapshot(f"runs-{width}", out)
    flat = " ".join(out.split())
    assert "graph-wide" in flat and "target: the sparsity the strategy aimed at" in flat
    row = next(line for line in out.splitlines() if "demo-seq-digits" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[1:5] == ["3", "2", "0.7012", "0.9000"]  # steps as integers, shared decimals


def test_run_show_has_hyperparameters_and_the_target(width):
    out = run(["run", "show", "demo-seq-digits"], width)
    snapshot(f"run-show-{width}", out)
    assert "sparsity target 0.9 on W_hh" in out
    for key, value in (("lr", "0.01"), ("strategy_options.begin", "0.1"), ("epochs", "20")):
        assert re.search(rf"│ {re.escape(key)}\s+│ {re.escape(value)}\s+│", out), key
    assert "target_sparsity" in out and "graph_sparsity" in out
    assert "0.0680" in out and "0.1000" in out  # one column, one number of decimals


def test_history_columns_share_decimals(width):
    out = run(["history", "demo"], width)
    snapshot(f"history-{width}", out)
    assert "0.0680" in out and "0.1420" in out and "0.1000" in out
    assert "motif_z_se_max" in out


def test_fmt_column_shares_decimals():
    assert fmt_column([0.0, 0.068, 0.142]) == ["0.0000", "0.0680", "0.1420"]
    assert fmt_column([1.0, 2.0, None]) == ["1", "2", "-"]
    assert fmt_column([12.345678, 0.1, -3.0]) == ["12.35", "0.10", "-3.00"]
    assert fmt_column(["a", 1.5]) == ["a", "1.500"]


def test_unknown_query_suggests_the_closest_name():
    with pytest.raises(InputError, match="did you mean 'overlap'"):
        get_query("overlpa")
    res = runner.invoke(app, ["query", "balance_histroy"])
    assert res.exit_code == 1 and "did you mean 'balance_history'" in res.stderr


def test_a_cypher_syntax_error_prints_one_line(monkeypatch):
    from neo4j.exceptions import Neo4jError

    message = ("Invalid input 'RETRN': expected 'RETURN' (line 1, column 10 (offset: 9))\n"
               '"MATCH (n) RETRN n"\n          ^')
    error = Neo4jError._hydrate_neo4j(code="Neo.ClientError.Statement.SyntaxError",
                                      message=message)

    class Refusing(FakeStore):
        def cypher(self, text: str, **params: Any) -> pd.DataFrame:
            raise error

    monkeypatch.setattr(analyze_cli, "open_store", Refusing)
    res = runner.invoke(app, ["cypher", "MATCH (n) RETRN n"])
    assert res.exit_code == 1
    assert res.stderr.count("\n") == 1, res.stderr
    assert "line 1, column 10" in res.stderr and "SyntaxError" in res.stderr
    assert one_line(error) in " ".join(res.stderr.split())
    # the parser's list of every token it expected is left out; what and where stay
    tokens = ", ".join(f"'{t}'" for t in ("FOREACH", "ORDER BY", "CALL", "CREATE", "DELETE",
                                           "DETACH", "FINISH", "LIMIT", "MATCH", "MERGE"))
    long = Neo4jError._hydrate_neo4j(
        code="Neo.ClientError.Statement.SyntaxError",
        message=f"Invalid input 'RETRN': expected {tokens} or <EOF> (line 1, column 11 "
                "(offset: 10))\n\"MATCH (n) RETRN n\"\n           ^")
    assert one_line(long) == ("Invalid input 'RETRN' (line 1, column 11 (offset: 10)) "
                              "[Neo.ClientError.Statement.SyntaxError]")


@pytest.mark.parametrize("width", WIDTHS)
def test_help_texts_show_what_they_promise(width):
    def help_of(*cmd: str) -> str:
        res = runner.invoke(app, [*cmd, "--help"], env={"COLUMNS": str(width)},
                            terminal_width=width)
        assert res.exit_code == 0
        return " ".join(res.stdout.replace("│", " ").split())

    assert "sparsetopo cypher 'MATCH (r:Run {name: $run})" in help_of("cypher")
    assert "PREFIX-PAPER-CONDITION-sSEED" in help_of("reproduce")
    train = help_of("train")
    for row in ("seq-digits rnn 20 64 1e-2 32", "inverse-control mlp 30 128 3e-3 64"):
        assert row in train.replace("┃", " ").replace("|", " "), row


def test_train_help_defaults_match_the_tasks():
    pytest.importorskip("torch")
    from sparsetopo.cli.train import HELP
    from sparsetopo.training.tasks import TASKS

    for name, cls in TASKS.items():
        row = f"| {name} | {cls.default_model} | {cls.epochs} | {cls.hidden} | "
        assert row in HELP, row
        assert f"| {cls.batch_size} |" in HELP.split(row)[1].split("\n")[0] + " |"
