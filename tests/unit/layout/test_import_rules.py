"""The package's layers point one way (docs/design.md "Architecture", decision 0004); a test."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "sparsetopo"

#: For each room, the sparsetopo rooms it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "settings": {"errors"},
    "topology": {"errors"},
    "analysis": {"errors", "settings", "topology"},
    "queries": {"errors"},
    "server": {"errors", "settings"},
    "graphstore": {"errors", "settings", "topology", "server"},
    "training": {"errors", "topology"},
    "ingest": {"errors", "settings", "topology", "graphstore", "server"},
    # api -> ingest: Store.ingest calls ingest.ingest_files (the path `sparsetopo ingest` takes)
    "api": {"errors", "settings", "topology", "analysis", "queries", "graphstore", "server",
            "ingest"},
    "reproduce": {"errors", "settings", "topology", "analysis", "queries", "graphstore",
                  "ingest", "training", "api"},
    "cli": {"errors", "settings", "topology", "analysis", "queries", "graphstore", "server",
            "ingest", "training", "api", "reproduce", "__init__"},
    "__init__": {"api", "ingest"},
}
#: Third-party packages a room must not import at all.
FORBIDDEN: dict[str, set[str]] = {
    "analysis": {"torch", "neo4j", "matplotlib", "sklearn"},
    "graphstore": {"torch", "matplotlib"},
    "queries": {"torch", "neo4j", "matplotlib"},
    "server": {"torch", "matplotlib", "numpy"},
    "api": {"torch"},
}


def _room(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__init__" else "__init__"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{path}: relative import; use absolute sparsetopo.* imports")
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layers_point_one_way(path: Path) -> None:
    room = _room(path)
    assert room in ALLOWED, f"{path}: room {room!r} is not in the layout; add it to ALLOWED"
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] == "sparsetopo":
            target = parts[1] if len(parts) > 1 else "__init__"
            assert target == room or target in ALLOWED[room], (
                f"{path.relative_to(PACKAGE)} imports {name}: {room} may only import "
                f"{sorted(ALLOWED[room])}"
            )
        else:
            assert parts[0] not in FORBIDDEN.get(room, set()), (
                f"{path.relative_to(PACKAGE)} imports {name}, which {room} must not need"
            )


def test_the_rules_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from sparsetopo.cli.main import app\nfrom . import x\n")
    with pytest.raises(AssertionError, match="relative import"):
        _imports(bad)


@pytest.mark.parametrize(
    ("statement", "absent"),
    [
        ("import sparsetopo", {"torch", "neo4j", "matplotlib", "sklearn"}),
        # ~3 s each (a fresh interpreter imports numba, pandas, the driver)
        pytest.param("import sparsetopo.analysis", {"torch", "neo4j", "matplotlib", "sklearn"},
                     marks=pytest.mark.slow),
        pytest.param("import sparsetopo.api.store", {"torch", "matplotlib", "sklearn"},
                     marks=pytest.mark.slow),
    ],
)
def test_light_imports_stay_light(statement: str, absent: set[str]) -> None:
    code = f"{statement}\nimport sys\nprint(sorted(m for m in {sorted(absent)!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"{statement} loaded {out.stdout.strip()}"
