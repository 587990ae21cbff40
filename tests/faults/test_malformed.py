"""Malformed inputs through the CLI (issue 10): exit code, a one-line message naming the file
or parameter and the fix, no traceback, and a database proven unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.extras import requires

requires("torch")

from sparsetopo.cli.main import app
from tests.faults.malformed import BASE_RUN, Case, build_base_run, cases

pytestmark = pytest.mark.integration
runner = CliRunner()


def fingerprint(driver) -> tuple:
    """Everything a failed command could have changed: counts, runs and their snapshots."""
    records, _, _ = driver.execute_query(
        "CALL { MATCH (n) RETURN count(n) AS nodes } "
        "CALL { MATCH ()-[r]->() RETURN count(r) AS rels } "
        "CALL { MATCH (r:Run) RETURN collect([r.name, r.status, r.n_snapshots, r.last_step, "
        "r.hacked]) AS runs } "
        "CALL { MATCH (s:Snapshot) RETURN collect([s.run_id, s.seq, s.step, s.complete]) AS snaps } "
        "RETURN nodes, rels, runs, snaps"
    )
    r = records[0]
    return r["nodes"], r["rels"], sorted(map(tuple, r["runs"])), sorted(map(tuple, r["snaps"]))


@pytest.fixture(scope="module")
def base_run(driver, tmp_path_factory):
    build_base_run(lambda argv: runner.invoke(app, argv).exit_code,
                   tmp_path_factory.mktemp("base"))
    yield BASE_RUN
    from sparsetopo.graphstore.runs import delete_run

    delete_run(driver, BASE_RUN)


def check_case(case: Case, tmp: Path, driver) -> None:
    argv = case.build(tmp)
    before = fingerprint(driver)
    result = runner.invoke(app, argv)
    after = fingerprint(driver)
    err = result.stderr
    assert "Traceback" not in result.output + err, err
    assert result.exit_code == case.exit_code, (result.exit_code, result.output, err)
    text = " ".join(err.split())
    for needle in case.needles:
        assert needle in text, (needle, err)
    if case.exit_code == 1:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert after == before


def test_there_are_enough_cases():
    assert len(cases()) >= 60


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_malformed_input(case: Case, base_run, driver, tmp_path: Path):
    check_case(case, tmp_path, driver)
