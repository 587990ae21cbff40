"""The Cypher library files: header parsing, documented parameters and columns, value coercion
(no server needed)."""

from __future__ import annotations

import re

import pytest

from sparsetopo.errors import InputError
from sparsetopo.queries.library import (
    coerce_value,
    get_query,
    library,
    parse_cypher_literal,
    parse_query,
)

SAMPLE = """// What it answers.
// More detail.
//
// Parameters:
//   run   name of the run
//   step  the step
// Columns: a, b
// :param run => 'x y';
// :param step => 3;
MATCH (r:Run {name: $run}) RETURN $step AS a, 1 AS b;
"""


def test_parse_header():
    q = parse_query("sample", SAMPLE)
    assert q.title == "What it answers."
    assert q.description == "More detail."
    assert q.params == {"run": "name of the run", "step": "the step"}
    assert q.examples == {"run": "x y", "step": 3}
    assert q.columns == ("a", "b")
    assert q.text.startswith("MATCH") and not q.text.endswith(";")


def test_undocumented_parameter_is_rejected():
    with pytest.raises(InputError, match="undocumented parameters"):
        parse_query("bad", SAMPLE.replace("$step AS a", "$other AS a"))


def test_missing_columns_is_rejected():
    with pytest.raises(InputError, match="columns"):
        parse_query("bad", SAMPLE.replace("// Columns: a, b\n", ""))


@pytest.mark.parametrize("name", sorted(library()))
def test_library_file_is_complete(name):
    q = library()[name]
    assert q.title.endswith(".")
    used = set(re.findall(r"\$([A-Za-z_]\w*)", q.text))
    assert used == set(q.params)
    assert set(q.examples) == set(q.params)
    # the documented columns are the RETURN aliases, in order
    last_return = q.text[q.text.rindex("RETURN"):]
    aliases = re.findall(r"\bAS\s+(\w+)", last_return)
    bare = [c for c in q.columns if c not in aliases]
    assert [c for c in q.columns if c in aliases] == [a for a in aliases if a in q.columns]
    for col in bare:  # returned without AS: must appear as a plain name in the RETURN clause
        assert re.search(rf"\b{col}\b", last_return)


def test_library_has_the_required_questions():
    names = set(library())
    assert {"runs", "snapshots", "history", "layer_subgraph", "edges_alive", "turnover",
            "survivors", "overlap", "overlap_runs", "ffl_classes", "ffl_unbalanced",
            "neuron_ffl_history", "neuron_degree_history", "top_synapses", "motif_history",
            "nnstd_matrix", "nnstd_runs"} <= names


def test_unknown_or_hostile_names():
    for name in ("nope", "../store", "runs; DROP", ""):
        with pytest.raises(InputError, match="no library query"):
            get_query(name)


@pytest.mark.parametrize(("text", "value"), [
    ("12", 12), ("-3", -3), ("0.5", 0.5), ("1e-3", 1e-3), ("true", True), ("False", False),
    ("null", None), ("W_rec", "W_rec"), ("'100'", "100"), ('"a b"', "a b"), ("1.2.3", "1.2.3"),
    ("zhang-prune", "zhang-prune"),
])
def test_coerce_value(text, value):
    got = coerce_value(text)
    assert got == value and type(got) is type(value)




def test_cypher_literals():
    assert parse_cypher_literal("'a'") == "a"
    assert parse_cypher_literal("[1, 2.5, true, null]") == [1, 2.5, True, None]
    with pytest.raises(InputError):
        parse_cypher_literal("datetime()")
