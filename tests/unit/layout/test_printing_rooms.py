"""Only cli/ prints or draws progress (issue 20's house rule, docs/design.md): the library logs
and reports progress to a callback.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "sparsetopo"
ROOMS = ("api", "analysis", "graphstore", "ingest", "queries", "reproduce", "server",
         "training")
_DRAWING = ("rich", "tqdm")


def _printing(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    hits = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(path.parents[1])}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            hits.append(f"{where}: print()")
        elif isinstance(node, ast.Import):
            hits.extend(f"{where}: import {a.name}" for a in node.names
                        if a.name.split(".")[0] in _DRAWING)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _DRAWING:
            hits.append(f"{where}: from {node.module}")
    return hits


@pytest.mark.parametrize("room", ROOMS)
def test_no_printing_or_progress_bars_outside_cli(room):
    found = [hit for path in sorted((PACKAGE / room).rglob("*.py")) for hit in _printing(path)]
    assert found == [], "only cli/ prints; report progress to a callback:\n" + "\n".join(found)


def test_the_check_sees_prints_and_progress_bars(tmp_path):
    room = tmp_path / "room"
    room.mkdir()
    (room / "m.py").write_text('"""print() in a docstring is fine."""\n'
                               "from rich.progress import Progress\nimport tqdm.auto\n"
                               "print('x')\n")
    assert _printing(room / "m.py") == ["room/m.py:2: from rich.progress",
                                        "room/m.py:3: import tqdm.auto", "room/m.py:4: print()"]
