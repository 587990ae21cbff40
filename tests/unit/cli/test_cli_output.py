"""What the terminal shows, at 80 and 120 columns: tables, help, errors (no server needed)."""

from __future__ import annotations

import re

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from sparsetopo.cli import analyze as analyze_cli
from sparsetopo.cli.common import fmt_column, fmt_value, parse_pairs, print_table
from sparsetopo.cli.main import app
from sparsetopo.errors import InputError

runner = CliRunner()
WIDTHS = (80, 120)


# ---------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(("value", "text"), [
    (2250, "2250"), (0, "0"), (-3, "-3"), (0.5, "0.5000"), (2 / 3, "0.6667"), (1.0, "1.000"),
    (12.3456, "12.35"), (2250.0, "2250"), (123456.0, "1.235e+05"), (0.0001234, "1.234e-04"),
    (0.0, "0.000"), (float("nan"), "-"), (None, "-"), (True, "true"), ("zhang", "zhang"),
])
def test_numbers_have_four_significant_digits(value, text):
    assert fmt_value(value) == text


def test_numpy_scalars_format_like_python_numbers():
    np = pytest.importorskip("numpy")
    assert fmt_value(np.int64(2250)) == "2250"
    assert fmt_value(np.float64(2 / 3)) == "0.6667"
    assert fmt_value(np.float32("nan")) == "-"


# ---------------------------------------------------------------------------- k=v options
def test_one_key_value_parser():
    assert parse_pairs(["run=a=b", "step=5"], "--param") == {"run": "a=b", "step": 5}
    assert parse_pairs(["zeta=0.2", "prune-every=2", "levels=[0.5, 0.9]", "on=true"], "-o") == {
        "zeta": 0.2, "prune_every": 2, "levels": [0.5, 0.9], "on": True}
    with pytest.raises(InputError, match="name=value"):
        parse_pairs(["step"], "--param")
    with pytest.raises(InputError, match="identifier"):
        parse_pairs(["st ep=1"], "--param")
    with pytest.raises(InputError, match="not valid JSON"):
        parse_pairs(["levels=[0.5,"], "--option")


# ---------------------------------------------------------------------------- tables
def _rows(n: int = 6) -> list[dict]:
    rows = []
    for k in range(n):
        rows.append({
            "step": 1000 * k, "n_edges": 22500 - 1000 * k, "sparsity": 0.9 + k / 1000,
            "test_accuracy": 0.5 + k / 7, "ffl_balance": 2 / 3 + k / 100,
            "ffl_balance_null": 0.5, "ffl_balance_z": -12.345678 * k,
            "triangle_unbalanced_fraction": 1 / 3, "nnstd_to_first": k / 9,
            "overlap_prev_jaccard": 1 - k / 11, "cycle4_balance": float("nan"),
        })
    return rows


def _render(rows: list[dict], width: int) -> str:
    con = Console(width=width, record=True, color_system=None, force_terminal=False)
    print_table(rows, title="history of run", out=con)
    return con.export_text()


@pytest.mark.parametrize("width", WIDTHS)
def test_tables_fit_and_never_split_a_number_or_a_header(width):
    rows = _rows()
    text = _render(rows, width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines)
    cells = [re.split(r"\s*[│┃]\s*", line.strip("│┃ ")) for line in lines
             if line.startswith(("│", "┃"))]
    flat = {c for row in cells for c in row}
    for key in rows[0]:  # every number appears whole, exactly as its column formats it
        for text in fmt_column([row[key] for row in rows]):
            assert text in flat, (key, text, width)
    for header in rows[0]:
        assert header in flat, header  # never split over two lines
    pages = [line for line in lines if line.startswith("history of run")]
    if width == 80:
        assert len(pages) >= 2 and all(re.search(r"\(\d/\d\)$", p.rstrip()) for p in pages)
    else:
        assert len(pages) >= 1
    # every page repeats the key column
    headers = [c for c in cells if "step" in c]
    assert len(headers) == max(len(pages), 1)


@pytest.mark.parametrize("width", WIDTHS)
def test_numbers_are_right_aligned(width):
    text = _render([{"name": "a", "n": 5}, {"name": "b", "n": 123456}], width)
    body = [line for line in text.splitlines() if line.startswith("│ a") or line.startswith("│ b")]
    ends = {line.rstrip("│ ").rstrip() for line in body}
    # right-aligned: both numbers end in the same column
    assert len({len(line.rstrip(" │")) for line in body}) == 1, ends


# ---------------------------------------------------------------------------- help
def _commands() -> list[list[str]]:
    root = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(cmd: typer.core.TyperCommand | typer.core.TyperGroup, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
        else:
            out.append(path)

    walk(root, [])
    return out


def test_every_command_is_covered():
    names = {" ".join(c) for c in _commands()}
    assert {"analyze", "history", "runs", "run show", "run delete", "export", "train", "ingest",
            "server start", "query", "cypher", "compare", "plot", "demo"} <= names


@pytest.mark.parametrize("width", WIDTHS)
def test_help_has_an_example_and_fits(width):
    for command in _commands():
        res = runner.invoke(app, [*command, "--help"], env={"COLUMNS": str(width)},
                            terminal_width=width)
        assert res.exit_code == 0, (command, res.output)
        assert "Example" in res.output, command
        assert all(len(line) <= width for line in res.output.splitlines()), command


def test_help_reflows_paragraphs_instead_of_breaking_mid_sentence():
    res = runner.invoke(app, ["history", "--help"], env={"COLUMNS": "120"}, terminal_width=120)
    # the docstring wraps after "its" in the source; at 120 columns the sentence stays whole
    assert "statistic next to its null-model value" in res.output


def test_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and re.fullmatch(r"sparsetopo \S+\n", res.stdout)


# ---------------------------------------------------------------------------- errors
def test_bad_choice_fails_before_any_work(monkeypatch):
    opened: list[bool] = []
    monkeypatch.setattr(analyze_cli, "open_store", lambda: opened.append(True))
    res = runner.invoke(app, ["analyze", "some-run", "--null", "bogus"])
    assert res.exit_code == 2
    assert "bogus" in res.output and "switching" in res.output
    assert opened == []  # no database, no progress bar
    res = runner.invoke(app, ["analyze", "some-run", "--n-null", "0"])
    assert res.exit_code == 2 and opened == []
    res = runner.invoke(app, ["export", "some-run", "-o", "x", "--format", "parquet"])
    assert res.exit_code == 2 and "npz" in res.output


def test_failed_operation_exits_1_with_one_line(monkeypatch):
    def refuse():
        raise InputError("run 'nope' does not exist; stored runs: a, b")

    monkeypatch.setattr(analyze_cli, "open_store", refuse)
    res = runner.invoke(app, ["history", "nope"])
    assert res.exit_code == 1
    assert res.stderr == "error: run 'nope' does not exist; stored runs: a, b\n"
    assert res.stdout == ""
