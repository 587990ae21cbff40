"""`sparsetopo runs`, `run show`, `export`, `run delete` through api.Store, against the real server:
the answers equal the files the run was written from, and errors follow docs/cli.md."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from sparsetopo.cli.main import app
from tests.support.zhang import load, write

runner = CliRunner()


def test_runs_show_export_delete(driver, run_name, tmp_path):
    write(driver, run_name, (0, 5, 10))

    r = runner.invoke(app, ["runs", "--json"])
    assert r.exit_code == 0, r.output
    row = next(x for x in json.loads(r.stdout) if x["name"] == run_name)
    assert row["snapshots"] == 3 and row["last_step"] == 10

    r = runner.invoke(app, ["run", "show", run_name, "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["run"]["name"] == run_name and "architecture_json" not in info["run"]
    assert [(x["name"], x["n_in"], x["n_out"]) for x in info["layers"]] == [("W_rec", 150, 150)]
    assert [s["step"] for s in info["snapshots"]] == [0, 5, 10]
    assert [s["n_edges"] for s in info["snapshots"]] == [len(load(e)) for e in (0, 5, 10)]

    for width in (80, 120):
        r = runner.invoke(app, ["run", "show", run_name], env={"COLUMNS": str(width)},
                          terminal_width=width)
        assert r.exit_code == 0, r.output
        assert all(len(line) <= width for line in r.stdout.splitlines()), width
        for e in (0, 5, 10):
            assert f" {len(load(e))} " in r.stdout  # edge counts whole, never wrapped

    out = tmp_path / "w10.csv"
    r = runner.invoke(app, ["export", run_name, "--step", "10", "-f", "csv", "-o", str(out)])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out)
    want = load(10)
    assert len(got) == len(want)
    assert set(zip(got.Source, got.Target, strict=True)) == set(
        zip(want.Source, want.Target, strict=True))

    r = runner.invoke(app, ["run", "delete", run_name, "--yes"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["run", "show", run_name])
    assert r.exit_code == 1
    assert r.stderr.startswith("error:") and run_name in r.stderr and "Traceback" not in r.output
    assert run_name not in [x["name"] for x in json.loads(runner.invoke(app, ["runs", "--json"]).stdout)]
    r = runner.invoke(app, ["run", "delete", run_name, "--yes"])
    assert r.exit_code == 1 and r.stderr.startswith("error:")
