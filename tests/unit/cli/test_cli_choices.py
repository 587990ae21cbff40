"""The command line's choice enums are declared statically; they must match the library's lists."""

from __future__ import annotations

from sparsetopo.analysis.zscores import GRAPH_NULLS, LAYERED_NULLS
from sparsetopo.cli.analyze import NullModel
from sparsetopo.cli.main import app


def test_null_models_are_the_librarys() -> None:
    assert [m.value for m in NullModel] == list(dict.fromkeys((*GRAPH_NULLS, *LAYERED_NULLS)))


def test_every_command_module_is_merged_into_the_root_app() -> None:
    import typer.main

    names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert names == {"demo", "train", "ingest", "runs", "run", "export", "analyze", "history",
                     "query", "cypher", "compare", "plot", "reproduce", "server"}
