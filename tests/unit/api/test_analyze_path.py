"""The analyze path's pieces that need no server: which pairs are still to compute, the tables
the Store returns, the report's HTML, and the lookups' checks."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from sparsetopo.api.analyze import AnalysisReport, pairs_needed
from sparsetopo.api.lookup import ResolvedRun, listing, params_int, require_layer
from sparsetopo.api.tables import nnstd_frame, part_history
from sparsetopo.errors import InputError, StoreError
from sparsetopo.graphstore.runs import architecture_to_json
from sparsetopo.topology import Architecture, LayerSpec

ARCH = Architecture({"input": 4, "hidden": 3, "out": 2},
                    (LayerSpec("fc1", "input", "hidden", 4, 3),
                     LayerSpec("fc2", "hidden", "out", 3, 2)))


def _expected(seqs, props, mode, overlap, force, stored):
    """The pairs by their definition: NNSTD of each snapshot to the first and the previous
    (every pair with "all"), overlap with the previous, minus what is stored."""
    want: dict[tuple[int, int], list[bool]] = {}
    for i, b in enumerate(seqs[1:], start=1):
        a = seqs[i - 1]
        if mode and (force or "analysis_nnstd" not in props[b]):
            for x in {seqs[0], a}:
                want.setdefault((x, b), [False, False])[0] = True
        if overlap and (force or "analysis_overlap" not in props[b]):
            want.setdefault((a, b), [False, False])[1] = True
    if mode == "all":
        for a, b in itertools.combinations(seqs, 2):
            if force or (a, b) not in stored:
                want.setdefault((a, b), [False, False])[0] = True
    return sorted((a, b, n, o) for (a, b), (n, o) in want.items())


@pytest.mark.parametrize("mode", [None, "chain", "all"])
@pytest.mark.parametrize("force", [False, True])
def test_pairs_needed_matches_the_definition(mode, force):
    seqs = [0, 1, 2, 3, 5]
    props = {0: {}, 1: {"analysis_nnstd": "v1"}, 2: {"analysis_overlap": "v1"}, 3: {},
             5: {"analysis_nnstd": "v1", "analysis_overlap": "v1"}}
    stored = {(0, 1), (1, 5), (2, 3)}
    for overlap in (False, True):
        got = pairs_needed(seqs, props, mode, overlap, force, stored)
        assert got == _expected(seqs, props, mode, overlap, force, stored)


def test_nnstd_frame_is_symmetric_with_zero_diagonal_within_a_run():
    pairs = pd.DataFrame({"step_a": [0, 0, 10], "step_b": [10, 20, 20],
                          "distance": [0.1, 0.3, 0.2]})
    m = nnstd_frame(pairs, same_run=True)
    assert m.loc[20, 0] == 0.3 and m.loc[0, 20] == 0.3 and m.loc[10, 10] == 0.0
    other = nnstd_frame(pairs, same_run=False)
    assert list(other.index) == [0, 10] and list(other.columns) == [10, 20]
    assert nnstd_frame(pd.DataFrame(), same_run=True).empty


def test_part_history_by_layer_merges_and_checks_layers():
    rows = [{"seq": 0, "step": 0, "part": "layer:fc1", "kind": "layer", "layers": ["fc1"],
             "n_edges": 5},
            {"seq": 0, "step": 0, "part": "layer:fc2", "kind": "layer", "layers": ["fc2"],
             "n_edges": 2},
            {"seq": 0, "step": 0, "part": "recurrent:fc2", "kind": "recurrent",
             "layers": ["fc2"], "ffl_balance": 0.5}]
    df = part_history(rows, "r", ARCH, "layer")
    assert df.loc[(0, "fc2"), "n_edges"] == 2 and df.loc[(0, "fc2"), "ffl_balance"] == 0.5
    assert list(part_history(rows, "r", ARCH, "layer", layers=["fc1"]).index) == [(0, "fc1")]
    with pytest.raises(InputError, match="no layers \\['fc9'\\]; its layers: fc1, fc2"):
        part_history(rows, "r", ARCH, "layer", layers=["fc9"])
    assert len(part_history(rows, "r", ARCH, "part")) == 3


def test_report_html_escapes_and_counts():
    report = AnalysisReport("a<b", 5, computed=[0, 1], pairs=4, compared={"x&y": 3}, seconds=1.25)
    html = report._repr_html_()
    assert "a&lt;b" in html and "x&amp;y" in html
    assert "<td>already stored</td><td>3</td>" in html and "<td>1.2</td>" in html


def test_lookups():
    run = ResolvedRun.from_record("r", {"run_id": 7, "architecture_json": architecture_to_json(ARCH)})
    assert run.run_id == 7 and run.architecture == ARCH
    assert require_layer(run, "fc2") == "fc2"
    with pytest.raises(StoreError, match="no layer 'fc3'; its layers: fc1, fc2"):
        require_layer(run, "fc3")
    assert params_int("k", 3.0) == 3
    for bad in (True, 2.5, "x"):
        with pytest.raises(InputError, match="parameter k must be an integer"):
            params_int("k", bad)
    assert listing(list(range(30))) == ", ".join(map(str, range(12))) + ", ..., 26, 27, 28, 29 (30 in all)"
