"""Store.analyze: results written back equal independent computations, round-trip through the
Cypher library, and re-running is idempotent (replaces, never duplicates)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from tests.support.extras import requires

nx = requires("networkx")

from sparsetopo.api.store import Store
from sparsetopo.graphstore.results import count_results
from sparsetopo.graphstore.runs import delete_run, find_run
from tests.support.zhang import EPOCHS, brute_ffl_balance, load, write


def test_analyze_writes_round_trips_and_is_idempotent(driver, run_name):
    write(driver, run_name, EPOCHS)
    store = Store(driver)
    rep = store.analyze(run_name, n_null=10, workers=2)  # 6 snapshots + pairs: a process pool
    assert rep.computed == list(range(len(EPOCHS))) and rep.pairs > 0
    run_id = find_run(driver, run_name)["run_id"]
    counts = count_results(driver, run_id)

    hist = store.history(run_name)
    for e in EPOCHS:
        bal, tot = brute_ffl_balance(load(e))
        assert hist.loc[e, "ffl_balance"] == pytest.approx(bal / tot)
        assert hist.loc[e, "unbalanced_ffl"] == tot - bal

    # motif counts: the 16 triad classes equal networkx's census
    motifs = store.query("motif_history", run=run_name)
    for e in (0, 25):
        df = load(e)
        g = nx.DiGraph()
        g.add_nodes_from(range(150))
        g.add_edges_from((int(s), int(t)) for s, t in zip(df.Source, df.Target, strict=False) if s != t)
        census = nx.triadic_census(g)
        got = motifs[motifs.step == e].set_index("motif")["count"]
        for code, value in census.items():
            assert got[code] == value
        assert set(motifs[motifs.step == e].null_model) == {"switching"}

    # overlap to the previous snapshot equals set operations on the CSV files
    stored = store.query("overlap_stored", run_a=run_name, run_b=run_name)
    assert len(stored) == len(EPOCHS) - 1
    for row in stored.itertuples():
        a = set(zip(load(row.step_a).Source, load(row.step_a).Target, strict=False))
        b = set(zip(load(row.step_b).Source, load(row.step_b).Target, strict=False))
        assert (row.shared, row.only_a, row.only_b) == (len(a & b), len(a - b), len(b - a))
        assert row.jaccard == round(len(a & b) / len(a | b), 4)  # the table query rounds
        assert hist.loc[row.step_b, "overlap_prev_jaccard"] == pytest.approx(len(a & b) / len(a | b))

    # NNSTD: each snapshot to the first and to the previous one; distance in [0, 1]
    nn = store.query("nnstd_matrix", run=run_name)
    expected_pairs = {(EPOCHS[0], e) for e in EPOCHS[1:]} | set(itertools.pairwise(EPOCHS))
    assert set(zip(nn.step_a, nn.step_b, strict=False)) == expected_pairs
    assert ((nn.distance >= 0) & (nn.distance <= 1)).all()
    first = nn[nn.step_a == EPOCHS[0]].set_index("step_b").distance
    assert np.allclose(hist.nnstd_to_first.iloc[1:].to_numpy(), first.loc[list(EPOCHS[1:])],
                       atol=5e-5)  # the table query rounds to 4 decimals
    assert hist.nnstd_to_first.iloc[0] == 0.0

    # re-running computes nothing; forcing recomputes and replaces (same counts, same values)
    again = store.analyze(run_name, n_null=10)
    assert again.computed == [] and again.pairs == 0
    forced = store.analyze(run_name, n_null=10, force=True, workers=1)
    assert forced.computed == list(range(len(EPOCHS)))
    assert count_results(driver, run_id) == counts
    assert counts["motifs"] == len(EPOCHS) * 19  # 16 triads + 3 FFL statistics
    hist2 = store.history(run_name)
    pd.testing.assert_series_equal(hist.ffl_balance, hist2.ffl_balance)
    # another null spec counts as missing: motifs are replaced, not added
    store.analyze(run_name, balance=False, nnstd=False, overlap=False, null="sign_shuffle",
                  n_null=5)
    assert count_results(driver, run_id)["motifs"] == counts["motifs"]
    assert set(store.motifs(run_name).null_model) == {"sign_shuffle"}


def test_compare_two_runs(driver, run_name):
    other = run_name + "-b"
    write(driver, run_name, (0, 5, 10))
    write(driver, other, (5, 10, 15))
    store = Store(driver)
    try:
        df = store.compare(run_name, other)
        assert list(zip(df.step_a, df.step_b, strict=False)) == [(5, 5), (10, 10)]  # aligned by step
        assert np.allclose(df.nnstd, 0.0, atol=1e-12)  # identical snapshots
        assert (df.jaccard == 1.0).all()
        # written back and visible to the library
        assert len(store.query("nnstd_runs", run_a=run_name, run_b=other)) == 2
        ov = store.query("overlap_stored", run_a=run_name, run_b=other)
        assert list(ov.shared) == [len(load(5)), len(load(10))]
        store.compare(run_name, other)  # idempotent
        assert len(store.query("nnstd_runs", run_a=run_name, run_b=other)) == 2
    finally:
        from sparsetopo.graphstore.runs import delete_run

        delete_run(driver, other)


def test_cli_and_plots(driver, run_name, tmp_path, managed_server):
    import json

    from typer.testing import CliRunner

    from sparsetopo.cli.common import fmt_column
    from sparsetopo.cli.main import app

    write(driver, run_name, (0, 5, 10))
    runner = CliRunner()
    r = runner.invoke(app, ["analyze", run_name, "--n-null", "5", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["computed"] == 3
    r = runner.invoke(app, ["history", run_name, "--stat", "n_edges", "--csv"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["step,n_edges"] + [f"{e},{len(load(e))}" for e in (0, 5, 10)]
    # The default table at 80 and 120 columns: each statistic next to its null and Z-score, no
    # line wider than the terminal, every number whole (4 significant digits) in one cell.
    stored = json.loads(runner.invoke(app, ["history", run_name, "--json"]).stdout)
    keys = list(stored[0])
    assert keys.index("ffl_balance_null") == keys.index("ffl_balance") + 1
    assert keys.index("ffl_balance_z") == keys.index("ffl_balance") + 2
    for width in (80, 120):
        r = runner.invoke(app, ["history", run_name], env={"COLUMNS": str(width)},
                          terminal_width=width)
        assert r.exit_code == 0, r.output
        lines = r.stdout.splitlines()
        assert all(len(line) <= width for line in lines), width
        cells = {c for line in lines for c in re.split(r"\s*[│┃]\s*", line.strip("│┃ "))}
        for key in ("step", "n_edges", "sparsity", "ffl_balance", "ffl_balance_null",
                    "ffl_balance_z", "overlap_prev_jaccard", "motif_z_se_max"):
            for text in fmt_column([row.get(key) for row in stored]):  # one format per column
                assert text in cells, (key, text, width)
        assert "analysis_motifs" not in r.stdout  # bookkeeping only with --all
    r = runner.invoke(app, ["query", "overlap", "-p", f"run={run_name}", "-p", "step_a=0",
                            "-p", "step_b=10", "--json"])
    assert r.exit_code == 0, r.output
    a, b = (set(zip(load(e).Source, load(e).Target, strict=False)) for e in (0, 10))
    assert json.loads(r.stdout)[-1]["shared"] == len(a & b)
    r = runner.invoke(app, ["cypher", "MATCH (r:Run {name: $n}) RETURN r.n_snapshots AS n",
                            "-p", f"n={run_name}", "--json"])
    assert json.loads(r.stdout) == [{"n": 3}]
    r = runner.invoke(app, ["query", "no_such_query"])
    assert r.exit_code == 1
    r = runner.invoke(app, ["plot", run_name, "-o", str(tmp_path)])
    assert r.exit_code == 0, r.output
    # one Z-score and one null-band figure per motif family
    names = ["balance.png", "zscores-balance.png", "null-balance.png", "zscores-triads.png",
             "null-triads.png", "nnstd.png", "turnover.png"]
    paths = [tmp_path / n for n in names]
    assert r.stdout.split() == [str(p) for p in paths]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5_000
    # several runs overlaid, as SVG
    other = f"{run_name}-b"
    try:
        write(driver, other, (0, 5))
        r = runner.invoke(app, ["plot", run_name, other, "-o", str(tmp_path / "svg"),
                                "--format", "svg"])
        assert r.exit_code == 0, r.output
        assert (tmp_path / "svg" / "balance.svg").read_text().lstrip().startswith("<?xml")
        assert (tmp_path / "svg" / "turnover.svg").exists()
        from sparsetopo.api.plots import figures

        fig = figures(Store(driver), [run_name, other])["balance"]
        legend = [x.get_text() for x in fig.legends[0].get_texts()]  # one, outside the axes
        assert run_name in legend and other in legend
        panels = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
        ffl = [ln.get_label() for ln in panels["FFL balance (pooled)"].get_lines()]
        assert run_name in ffl and other not in ffl  # not analysed: nothing to draw
        sparsity = [ln.get_label() for ln in panels["sparsity (whole graph)"].get_lines()]
        assert sparsity == [run_name, other]
        assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"  # shows inline in Jupyter
    finally:
        delete_run(driver, other)
    r = runner.invoke(app, ["plot", run_name, "--format", "gif"])
    assert r.exit_code == 2 and "gif" in r.output  # a bad choice is a usage error


def test_unknown_layer_is_one_line_naming_the_layers(driver, run_name):
    from typer.testing import CliRunner

    from sparsetopo.cli.main import app

    write(driver, run_name, (0, 5))
    r = CliRunner().invoke(app, ["analyze", run_name, "--layer", "bogus", "--n-null", "5"])
    assert r.exit_code == 1, r.output
    assert "unknown layer 'bogus'" in r.output and "W_rec" in r.output
    assert "Traceback" not in r.output
    assert count_results(driver, find_run(driver, run_name)["run_id"])["motifs"] == 0
