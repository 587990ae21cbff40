"""`Store.ingest` is `sparsetopo ingest` from Python: same result, same checks, same errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sparsetopo.api.store import Store
from sparsetopo.cli.main import app
from sparsetopo.errors import InputError
from sparsetopo.graphstore.reader import list_snapshots
from sparsetopo.graphstore.runs import find_run
from tests.conftest import ZHANG

FOLDER = ZHANG / "pruning_n_150_p_0.05"
runner = CliRunner()


def test_store_ingest_writes_what_the_cli_writes(driver, run_name):
    files = [FOLDER / f"edge_list_weighted_{s}.csv" for s in (0, 100, 200)]
    store = Store(driver)
    summary = store.ingest(files, run=run_name, strategy="pruning",
                           metrics={100: {"test_accuracy": 0.5}})
    assert summary.steps == [0, 100, 200] and summary.snapshots == 3
    cli_run = run_name + "-cli"
    try:
        res = runner.invoke(app, ["ingest", *map(str, files), "--run", cli_run,
                                  "--strategy", "pruning", "--json"])
        assert res.exit_code == 0, res.output
        py = list_snapshots(driver, run_name)
        cli = list_snapshots(driver, cli_run)
        for a, b in zip(py, cli, strict=True):
            assert (a["step"], a["n_edges"], a["births"], a["deaths"]) == (
                b["step"], b["n_edges"], b["births"], b["deaths"])
        assert py[1]["test_accuracy"] == 0.5
        assert find_run(driver, run_name)["strategy"] == "pruning"
        # running it again resumes: everything is stored identically, nothing is written
        again = store.ingest(files, run=run_name)
        assert again.snapshots == 0 and again.skipped_already_stored == [0, 100, 200]
    finally:
        from sparsetopo.graphstore.runs import delete_run

        delete_run(driver, cli_run)


def test_store_ingest_bad_input_fails_like_the_cli_and_writes_nothing(driver, run_name, tmp_path):
    bad = tmp_path / "edge_list_weighted_5.csv"
    bad.write_text("Id,Source,Target,Weight\n0,0,1,0.5\n1,0,1,0.25\n")  # a duplicate edge
    store = Store(driver)
    with pytest.raises(InputError) as err:
        store.ingest([bad], run=run_name)
    res = runner.invoke(app, ["ingest", str(bad), "--run", run_name])
    assert res.exit_code == 1
    assert " ".join(res.stderr.split()) == " ".join(f"error: {err.value}".split())
    assert find_run(driver, run_name) is None
    with pytest.raises(InputError, match="steps"):
        store.ingest([FOLDER], run=run_name, steps="0,x")
    assert find_run(driver, run_name) is None
