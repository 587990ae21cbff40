"""Snapshots into a real Neo4j: exact round trips, lifetimes, importers, safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sparsetopo.cli.main import app
from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.reader import list_snapshots, read_lifetimes, read_snapshot
from sparsetopo.graphstore.runs import find_run
from sparsetopo.graphstore.writer import RunWriter
from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec
from tests.support.data import ZHANG

ARCH = Architecture(
    groups={"input": 12, "h": 9, "out": 4},
    layers=(
        LayerSpec("fc1", "input", "h", 12, 9, "linear", position=0),
        LayerSpec("fc2", "h", "out", 9, 4, "linear", position=1),
    ),
)


def random_masks(rng: np.random.Generator, steps: int) -> list[dict[str, np.ndarray]]:
    """Dense weight matrices that rewire, flip signs and change magnitude between steps."""
    out = []
    current = {s.name: rng.normal(size=(s.n_in, s.n_out)) * (rng.random((s.n_in, s.n_out)) < 0.4)
               for s in ARCH.layers}
    for _ in range(steps):
        out.append({k: v.astype(np.float32) for k, v in current.items()})
        nxt = {}
        for name, w in current.items():
            w = w.copy()
            kill = rng.random(w.shape) < 0.2
            grow = rng.random(w.shape) < 0.15
            flip = rng.random(w.shape) < 0.1
            w[kill] = 0
            w[grow & (w == 0)] = rng.normal(size=int((grow & (w == 0)).sum()))
            w[flip] = -w[flip]
            w *= 1 + 0.01 * rng.normal(size=w.shape)
            nxt[name] = w
        current = nxt
    return out


def as_snapshot(dense: dict[str, np.ndarray], step: int) -> GraphSnapshot:
    return GraphSnapshot({k: LayerEdges.from_dense(v) for k, v in dense.items()}, step=step,
                         metrics={"loss": 1.0 / (step + 1)})


def test_round_trip_and_lifetimes(driver, run_name):
    rng = np.random.default_rng(7)
    denses = random_masks(rng, 6)
    writer = RunWriter(driver, run_name, ARCH, meta={"task": "unit"})
    for i, dense in enumerate(denses):
        writer.write(as_snapshot(dense, step=10 * i))
    writer.finish()

    # exact weights back, at every step
    for i, dense in enumerate(denses):
        snap = read_snapshot(driver, run_name, step=10 * i)
        for spec in ARCH.layers:
            np.testing.assert_array_equal(snap.layers[spec.name].to_dense(spec.n_in, spec.n_out),
                                          dense[spec.name])
        assert snap.metrics["loss"] == pytest.approx(1.0 / (10 * i + 1))

    # births / deaths / sign flips, computed independently with set operations
    stored = list_snapshots(driver, run_name)
    assert [s["step"] for s in stored] == [0, 10, 20, 30, 40, 50]
    for i in range(1, len(denses)):
        births = deaths = flips = 0
        for name in ("fc1", "fc2"):
            prev = {(int(a), int(b)): np.sign(denses[i - 1][name][a, b])
                    for a, b in zip(*np.nonzero(denses[i - 1][name]), strict=True)}
            cur = {(int(a), int(b)): np.sign(denses[i][name][a, b])
                   for a, b in zip(*np.nonzero(denses[i][name]), strict=True)}
            flips += sum(1 for k in prev.keys() & cur.keys() if prev[k] != cur[k])
            births += len(cur.keys() - prev.keys())
            deaths += len(prev.keys() - cur.keys())
        assert (stored[i]["births"], stored[i]["deaths"], stored[i]["sign_flips"]) == (
            births, deaths, flips)

    # masks rebuilt from lifetimes equal the sign of the dense matrices at every snapshot
    _, lifetimes, n = read_lifetimes(driver, run_name)
    assert n == 6
    for i, dense in enumerate(denses):
        for spec in ARCH.layers:
            expected = np.sign(dense[spec.name]).astype(np.int8)
            np.testing.assert_array_equal(lifetimes[spec.name].mask(i, spec.n_in, spec.n_out),
                                          expected)

    # storage grows with change: one SYNAPSE per constant-sign stretch, not per snapshot
    records, _, _ = driver.execute_query(
        "MATCH ()-[r:SYNAPSE]->() WHERE r.run_id = $id RETURN count(r) AS n",
        id=find_run(driver, run_name)["run_id"])
    # a relationship starts at every birth and every sign flip (the first snapshot's edges are
    # all births)
    stretches = sum(s["births"] + s["sign_flips"] for s in stored)
    assert records[0]["n"] == stretches
    assert stretches < sum(int((d["fc1"] != 0).sum() + (d["fc2"] != 0).sum()) for d in denses)


def test_step_must_increase_and_replace(driver, run_name):
    rng = np.random.default_rng(1)
    dense = random_masks(rng, 2)
    writer = RunWriter(driver, run_name, ARCH)
    writer.write(as_snapshot(dense[0], step=5))
    with pytest.raises(StoreError, match="already has a snapshot at step 5"):
        writer.write(as_snapshot(dense[1], step=5))
    # a second writer on the same run (after the first released it) appends, and refuses the
    # same step too
    writer.close()
    again = RunWriter(driver, run_name, ARCH)
    with pytest.raises(StoreError, match="--replace"):
        again.write(as_snapshot(dense[1], step=3))
    again.write(as_snapshot(dense[1], step=6))
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [5, 6]
    # replace deletes and rewrites; nothing is duplicated
    again.close()
    fresh = RunWriter(driver, run_name, ARCH, replace=True)
    fresh.write(as_snapshot(dense[0], step=5))
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [5]
    records, _, _ = driver.execute_query("MATCH (r:Run {name: $n}) RETURN count(r) AS c", n=run_name)
    assert records[0]["c"] == 1


def test_other_architecture_is_refused(driver, run_name):
    RunWriter(driver, run_name, ARCH)
    other = Architecture(groups={"hidden": 5},
                         layers=(LayerSpec("W", "hidden", "hidden", 5, 5, "recurrent"),))
    with pytest.raises(StoreError, match="different architecture"):
        RunWriter(driver, run_name, other)


def test_hostile_names_are_data(driver):
    name = "x'}) MATCH (n) DETACH DELETE n //`"
    arch = Architecture(groups={"in`put": 3, "h'}) RETURN 1 //": 2},
                        layers=(LayerSpec("l\"}]->()", "in`put", "h'}) RETURN 1 //", 3, 2),))
    before, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS c")
    writer = RunWriter(driver, name, arch)
    writer.write(GraphSnapshot({"l\"}]->()": LayerEdges([0, 2], [1, 0], [0.5, -2.0])}, step=1))
    snap = read_snapshot(driver, name)
    assert snap.layers["l\"}]->()"].w.tolist() == [0.5, -2.0]
    after, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS c")
    assert after[0]["c"] > before[0]["c"]  # nothing was deleted by the "name"
    from sparsetopo.graphstore.runs import delete_run

    assert delete_run(driver, name)
    assert find_run(driver, name) is None


@pytest.mark.parametrize("bad", ["", "a\nb", "x" * 201])
def test_bad_run_names(driver, bad):
    with pytest.raises(InputError):
        RunWriter(driver, bad, ARCH)


def test_nonfinite_weights_rejected(driver, run_name):
    writer = RunWriter(driver, run_name, ARCH)
    with pytest.raises(InputError, match="NaN or Inf"):
        writer.write(GraphSnapshot({"fc1": LayerEdges([0], [1], [np.nan])}, step=0))
    assert list_snapshots(driver, run_name) == []


# -- the Zhang et al. edge lists through the CLI ------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize("folder", ["pruning_n_150_p_0.05", "SET_n_150_p_0.05_zeta_0.2"])
def test_zhang_edge_lists(driver, run_name, folder):
    directory = ZHANG / folder
    result = runner.invoke(app, ["ingest", str(directory), "--run", run_name, "--json"])
    assert result.exit_code == 0, result.output
    files = sorted(directory.glob("edge_list_weighted_*.csv"),
                   key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    stored = list_snapshots(driver, run_name)
    assert [s["step"] for s in stored] == [int(p.stem.rsplit("_", 1)[1]) for p in files]
    assert [s["n_edges"] for s in stored] == [len(pd.read_csv(p)) for p in files]
    last = pd.read_csv(files[-1])
    snap = read_snapshot(driver, run_name)
    got = snap.layers["W_rec"]
    expected = sorted(zip(last.Source, last.Target, last.Weight.astype(np.float32), strict=True))
    assert sorted(zip(got.src.tolist(), got.dst.tolist(), got.w.tolist(), strict=True)) == [
        (int(a), int(b), float(c)) for a, b, c in expected]


def test_corrupt_input_writes_nothing(driver, run_name, tmp_path: Path):
    for step in (0, 5):
        src = ZHANG / "pruning_n_150_p_0.05" / f"edge_list_weighted_{step}.csv"
        (tmp_path / src.name).write_text(src.read_text())
    (tmp_path / "edge_list_weighted_10.csv").write_text("Id,Source,Target,Weight\n0,1,2,0.5\n1,3,")
    result = runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name])
    assert result.exit_code == 1
    assert "edge_list_weighted_10.csv" in result.output
    assert find_run(driver, run_name) is None


def test_nan_csv_rejected_or_dropped(driver, run_name, tmp_path: Path):
    (tmp_path / "w_1.csv").write_text("Id,Source,Target,Weight\n0,0,1,0.5\n1,1,0,nan\n2,1,1,-1\n")
    result = runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name])
    assert result.exit_code == 1 and "allow-nonfinite" in result.output
    assert find_run(driver, run_name) is None
    result = runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name, "--allow-nonfinite",
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert '"nonfinite_dropped": 1' in result.output
    assert list_snapshots(driver, run_name)[0]["n_edges"] == 2


def test_ingest_same_step_twice(driver, run_name, tmp_path: Path):
    (tmp_path / "w_1.csv").write_text("Id,Source,Target,Weight\n0,0,1,0.5\n")
    assert runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name]).exit_code == 0
    # the same input again is a finished resume: nothing to write
    same = runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name, "--json"])
    assert same.exit_code == 0 and '"skipped_already_stored": [\n    1\n  ]' in same.output
    (tmp_path / "w_1.csv").write_text("Id,Source,Target,Weight\n0,0,1,0.25\n")
    again = runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name])
    assert again.exit_code == 1 and "--replace" in again.output
    replaced = runner.invoke(app, ["ingest", str(tmp_path), "--run", run_name, "--replace"])
    assert replaced.exit_code == 0
    assert [s["step"] for s in list_snapshots(driver, run_name)] == [1]


# -- atomicity: a writer killed in the middle of a snapshot ---------------------------------------

_KILLED_WRITER = textwrap.dedent("""
    import sys, numpy as np
    import sparsetopo.graphstore.writer as w
    from sparsetopo.graphstore.connection import open_driver
    from sparsetopo.topology import Architecture, GraphSnapshot, LayerEdges, LayerSpec
    w.CHUNK = w.PLUGIN_CHUNK = 800  # ~40 transactions per snapshot: the kill lands in the middle
    arch = Architecture({"h": 250}, (LayerSpec("W", "h", "h", 250, 250, "recurrent"),))
    driver, _ = open_driver()
    writer = w.RunWriter(driver, sys.argv[1], arch, lease_ttl=float(sys.argv[2]))
    rng = np.random.default_rng(0)
    for step in range(2):
        dense = (rng.random((250, 250)) < 0.5) * rng.normal(size=(250, 250))
        writer.write(GraphSnapshot({"W": LayerEdges.from_dense(dense)}, step=step))
        print("wrote", step, flush=True)
""")


def test_killed_writer_leaves_no_half_snapshot(driver, run_name):
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, run_name, "3"],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "wrote 0"
    run_id = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until snapshot 1 is being written
        records, _, _ = driver.execute_query(
            "MATCH (s:Snapshot {seq: 1}) MATCH (r:Run {name: $n}) WHERE s.run_id = r.run_id "
            "MATCH ()-[x:SYNAPSE]->() WHERE x.run_id = r.run_id AND x.born = 1 "
            "RETURN r.run_id AS id, s.complete AS complete, count(x) AS born LIMIT 1", n=run_name)
        if records and records[0]["born"] > 0:
            run_id = records[0]["id"]
            assert records[0]["complete"] is False
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert run_id is not None, "the writer finished before it could be killed"
    # invisible: readers only see complete snapshots
    assert [s["seq"] for s in list_snapshots(driver, run_name)] == [0]
    # the dead writer ran on this host and its process is gone: a new writer takes its lease
    # over at once (issue 24), rolls the half snapshot back and continues from snapshot 0
    arch = Architecture({"h": 250}, (LayerSpec("W", "h", "h", 250, 250, "recurrent"),))
    writer = RunWriter(driver, run_name, arch)
    records, _, _ = driver.execute_query(
        "MATCH ()-[x:SYNAPSE]->() WHERE x.run_id = $id AND (x.born = 1 OR x.died = 1) "
        "RETURN count(x) AS n", id=run_id)
    assert records[0]["n"] == 0
    assert writer.last_seq == 0
    rng = np.random.default_rng(0)
    dense0 = (rng.random((250, 250)) < 0.5) * rng.normal(size=(250, 250))
    _, lifetimes, _ = read_lifetimes(driver, run_name)
    np.testing.assert_array_equal(lifetimes["W"].mask(0, 250, 250), np.sign(dense0).astype(np.int8))
