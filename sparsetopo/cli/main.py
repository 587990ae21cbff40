"""The `sparsetopo` command line. Each sub-module registers its commands; no logic lives here.

Help texts are Markdown (typer's ``rich_markup_mode="markdown"``): a paragraph may be wrapped in
the source and is re-flowed to the terminal's width; every command shows an example.
"""

from __future__ import annotations

import logging

import typer
from rich.logging import RichHandler

import sparsetopo
from sparsetopo.cli import analyze, demo, ingest, reproduce, runs, server, train
from sparsetopo.cli.common import err_console

app = typer.Typer(
    name="sparsetopo",
    help=(
        "Snapshot sparse neural networks into Neo4j and query how their wiring evolves: "
        "signed motifs, structural balance, edge turnover and NNSTD.\n\n"
        "**Example**: `sparsetopo demo` (train, snapshot, analyse and show a small run)\n\n"
        "Exit status: 0 done, 1 the operation failed (the message says what to fix), "
        "2 usage error."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sparsetopo {sparsetopo.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logging."),
) -> None:
    """Snapshot sparse neural networks into Neo4j and query how their wiring evolves."""
    # The library logs and never prints; the command line shows its messages on stderr.
    handler = RichHandler(console=err_console, show_time=False, show_path=False,
                          markup=False, rich_tracebacks=False)
    root = logging.getLogger("sparsetopo")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


# Every command module's own Typer app, merged into the root one (add_typer without a name adds
# the commands themselves); imported here so that `--help` lists them all.
for _commands in (demo, train, ingest, runs, analyze, reproduce, server):
    app.add_typer(_commands.app)


if __name__ == "__main__":
    app()
