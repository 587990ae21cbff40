"""The `sparsetopo` command line. Each sub-module registers its commands; no logic lives here."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="sparsetopo",
    help=(
        "Snapshot sparse neural networks into Neo4j and query how their wiring evolves: "
        "signed motifs, structural balance, edge turnover and NNSTD."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)

# Command modules, each exposing register(app). Imported here so that `--help` lists them all.
_COMMAND_MODULES = ("demo", "train", "ingest", "runs", "analyze", "server")

for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"sparsetopo.cli.{_name}")
    except ModuleNotFoundError as exc:  # a module not written yet must not break the others
        if exc.name != f"sparsetopo.cli.{_name}":
            raise
        continue
    _module.register(app)


if __name__ == "__main__":
    app()
