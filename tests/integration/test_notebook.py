"""docs/example.ipynb runs top to bottom against the real server (nbclient + ipykernel) and shows
what it promises: an HTML report, inline figures, a networkx graph of the stored snapshot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.extras import requires

nbformat = requires("nbformat")
nbclient = requires("nbclient")
requires("ipykernel")
requires("matplotlib")
requires("networkx")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "docs" / "example.ipynb"
FOLDER = ROOT / "tests" / "data" / "zhang2023-sparse-rnn" / "MNIST" / "pruning_n_150_p_0.05"


def outputs(cell) -> dict[str, str]:
    """mime type -> content of a code cell's outputs (stdout under 'stdout')."""
    out: dict[str, str] = {}
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            out[o["name"]] = out.get(o["name"], "") + o["text"]
        elif "data" in o:
            out.update(o["data"])
    return out


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_example_notebook_runs_and_shows_its_results(managed_server, run_name, monkeypatch):
    monkeypatch.setenv("SPARSETOPO_NOTEBOOK_RUN", run_name)
    monkeypatch.setenv("SPARSETOPO_ROOT", str(ROOT))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    by_source = {c.source.split("\n")[0]: outputs(c) for c in code}
    assert all(o.get("output_type") != "error" for c in code for o in c.get("outputs", []))

    report = by_source["report = store.analyze(RUN, n_null=5, progress=True)"]
    assert "text/html" in report and "<td>computed</td><td>5</td>" in report["text/html"]

    history = by_source["history = store.history(RUN)"]["text/html"]
    assert "test_accuracy" in history and "ffl_balance" in history
    accuracy = [float(x) for x in (FOLDER / "test_accuracy.txt").read_text().split()]
    for step in (50, 100, 150, 200):  # pandas shows the column with 3 decimals
        assert f"<td>{accuracy[step // 5 - 1]:.3f}</td>" in history

    ingest = by_source['files = [FOLDER / f"edge_list_weighted_{s}.csv" for s in (0, 50, 100, 150, 200)]']
    assert "wrote steps [0, 50, 100, 150, 200]" in ingest["stdout"]
    z = by_source["motifs = store.motifs(RUN)"]["text/html"]
    assert "z_se" in z  # the Monte Carlo standard error of every Z
    for first_line in ("plot_balance(history, RUN)",
                       'plot_zscores(motifs, RUN, family="triads")'):
        figure = by_source[first_line]
        assert "image/png" in figure, f"{first_line} shows no inline picture: {figure.keys()}"
        assert len(figure["image/png"]) > 10_000  # base64 PNG

    edges_200 = len((FOLDER / "edge_list_weighted_200.csv").read_text().splitlines()) - 1
    counts = by_source["nxg = g.to_networkx()"]["stdout"].split()
    assert counts == ["150", str(edges_200), str(edges_200)]

    top = by_source['top = store.query("layer_subgraph", run=RUN, step=200, layer="W_rec", limit=5)']
    assert "EXCITES" in top["text/plain"] or "INHIBITS" in top["text/plain"]
