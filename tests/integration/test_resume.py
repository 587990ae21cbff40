"""Issue 10, defect 7: an interrupted ingest is resumed by running it again, and a run whose
writer died shows as interrupted, with how to resume."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from tests.support.extras import requires

requires("torch")

from sparsetopo.cli.main import app
from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.graphstore.runs import find_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.ingest.importers import read_inputs

runner = CliRunner()
HEADER = "Id,Source,Target,Weight\n"


def _files(folder: Path) -> dict[int, list[tuple[int, int, float]]]:
    edges = {1: [(0, 1, 0.5), (2, 0, -0.25)], 2: [(0, 1, 0.75), (1, 2, 1.5)],
             3: [(1, 2, -2.0), (2, 2, 0.125)]}
    for step, rows in edges.items():
        body = "".join(f"{i},{s},{t},{w}\n" for i, (s, t, w) in enumerate(rows))
        (folder / f"w_{step}.csv").write_text(HEADER + body)
    return edges


def test_crashed_ingest_is_interrupted_and_resumes(driver, run_name, tmp_path: Path):
    edges = _files(tmp_path)
    plan = read_inputs([tmp_path])
    # a writer that stored step 1 and died (no finish, no release; its lease expires)
    writer = RunWriter(driver, run_name, plan.architecture, lease_ttl=1.0)
    writer.write(plan.load(plan.items[0]), source=plan.items[0].source)
    writer._heartbeat.stop()
    time.sleep(1.5)
    listed = runner.invoke(app, ["runs", "--json"])
    row = next(r for r in json.loads(listed.stdout) if r["name"] == run_name)
    assert row["status"] == "interrupted"
    shown = runner.invoke(app, ["run", "show", run_name])
    assert shown.exit_code == 0
    assert "status=interrupted" in shown.stdout
    assert "run the same `sparsetopo ingest` command again" in " ".join(shown.stderr.split())
    # running the same import again resumes: step 1 is skipped, 2 and 3 are written
    result = runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["skipped_already_stored"] == [1] and summary["steps"] == [2, 3]
    stored = list_snapshots(driver, run_name)
    assert [s["step"] for s in stored] == [1, 2, 3]
    for step, rows in edges.items():
        snap = read_snapshot(driver, run_name, step=step).layers["W_rec"]
        got = sorted(zip(snap.src.tolist(), snap.dst.tolist(), snap.w.tolist(), strict=True))
        assert got == sorted(rows)
    listed = runner.invoke(app, ["runs", "--json"])
    row = next(r for r in json.loads(listed.stdout) if r["name"] == run_name)
    assert row["status"] == "complete"


def test_resume_refuses_changed_or_earlier_steps(driver, run_name, tmp_path: Path):
    _files(tmp_path)
    assert runner.invoke(app, ["ingest", str(tmp_path / "w_2.csv"), "--run", run_name]
                         ).exit_code == 0
    # step 1 would have to go before the stored step 2: refused before writing anything
    result = runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name])
    assert result.exit_code == 1
    assert "comes before step 2" in " ".join(result.stderr.split())
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [2]


def test_interrupted_delete_is_finished_by_the_same_command(driver, run_name, tmp_path: Path):
    _files(tmp_path)
    assert runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name]).exit_code == 0
    run_id = find_run(driver, run_name)["run_id"]
    # a delete that died after marking the run and removing its synapses
    driver.execute_query(
        "MATCH (r:Run {name: $name}) SET r.status = 'deleting' WITH r "
        "MATCH ()-[s:SYNAPSE]->() WHERE s.run_id = r.run_id DELETE s", name=run_name)
    listed = runner.invoke(app, ["runs", "--json"])
    assert run_name not in listed.stdout  # hidden while being deleted
    result = runner.invoke(app, ["run", "delete", run_name, "-y"])
    assert result.exit_code == 0, result.output
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE n.name = $name OR n.run_id = $id RETURN count(n) AS n",
        name=run_name, id=run_id)
    assert records[0]["n"] == 0
    assert "no run named" in " ".join(
        runner.invoke(app, ["run", "delete", run_name, "-y"]).stderr.split())
