"""Cypher lives only in graphstore/ and queries/ (issue 20's house rule, docs/design.md).

The check reads every string literal that is not a docstring in the rooms above the database
layer and flags one that reads as a Cypher statement (a clause keyword followed by a pattern or
an expression). Docstrings may show Cypher as examples; code may not send it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "sparsetopo"
#: Rooms that must hold no Cypher (cli/ only shows it in help texts, server/ probes its own
#: server below the graph store).
ROOMS = ("api", "analysis", "ingest", "reproduce", "training")
_CYPHER = re.compile(r"\b(MATCH|MERGE|UNWIND|CREATE|DETACH DELETE)\s*\(|\bRETURN\s+[\w$(*]"
                     r"|\bCALL\s*[({]")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _cypher_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    docs = _docstrings(tree)
    return [f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value[:60]!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docs and _CYPHER.search(node.value)]


def test_pattern_finds_cypher_and_not_prose():
    assert _CYPHER.search("MATCH (r:Run {name: $name}) RETURN r")
    assert _CYPHER.search("RETURN 1")
    assert not _CYPHER.search("Return the steps of the run, in order")
    assert not _CYPHER.search("the CREATE statement of the census")


@pytest.mark.parametrize("room", ROOMS)
def test_no_cypher_outside_graphstore_and_queries(room):
    found = [hit for path in sorted((PACKAGE / room).rglob("*.py")) for hit in _cypher_literals(path)]
    assert found == [], "Cypher belongs in graphstore/ or queries/:\n" + "\n".join(found)
