"""`sparsetopo server ...`: the managed local Neo4j."""

from __future__ import annotations

import sys
from typing import Any

import typer

from sparsetopo.cli.common import console, err_console, friendly_errors, print_json

server_app = typer.Typer(
    help=(
        "The managed local Neo4j 5.26 (jars from Maven Central, loopback only, auth on). "
        "Data lives in $SPARSETOPO_HOME (default ~/.local/share/sparsetopo). To use another "
        "Neo4j instead, set NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD.\n\n"
        "**Example**: `sparsetopo server start`"
    ),
    no_args_is_help=True,
)


def _server(bolt_port: int | None = None, http_port: int | None = None,
            heap: str | None = None, pagecache: str | None = None, nice: int | None = None):
    from sparsetopo.server.process import ManagedServer

    server = ManagedServer()
    changed = False
    for key, value in (("bolt_port", bolt_port), ("http_port", http_port), ("heap", heap),
                       ("pagecache", pagecache), ("nice", nice)):
        if value is not None and getattr(server.settings, key) != value:
            setattr(server.settings, key, value)
            changed = True
    if changed:
        server.settings.save(server.home)
    return server


def _log(message: str) -> None:
    err_console.print(f"[dim]{message}[/]")


@server_app.command()
@friendly_errors
def install(force: bool = typer.Option(False, "--force", help="Fetch the jars again.")) -> None:
    """Fetch the Neo4j server, Browser and APOC jars with Maven (cached; safe to repeat).

    **Example**: `sparsetopo server install`
    """
    server = _server()
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("checking Java and Maven", total=None)
        installed = server.install(force=force, log=_log,
                                   step=lambda what: bar.update(task, description=what))
    if installed:
        console.print(f"installed Neo4j into {server.home}")
    else:
        console.print(f"already installed in {server.home} (use --force to fetch again)")


@server_app.command()
@friendly_errors
def start(
    bolt_port: int = typer.Option(None, help="Bolt port (default 7687; remembered)."),
    http_port: int = typer.Option(None, help="HTTP/Browser port (default 7474; remembered)."),
    heap: str = typer.Option(None, help="Java heap, e.g. 2g (remembered)."),
    pagecache: str = typer.Option(None, help="Page cache, e.g. 1g (remembered)."),
    nice: int = typer.Option(
        None, min=0, max=19,
        help="CPU priority of the server: 0 normal (default) to 19 lowest, so that training "
             "on the same cores goes first (remembered; also SPARSETOPO_NICE)."),
) -> None:
    """Start the server in the background and wait until it answers.

    Installs it first if needed; does nothing if it already runs (a new --nice applies at
    the next start).

    **Example**: `sparsetopo server start --bolt-port 7688 --heap 2g --nice 10`
    """
    server = _server(bolt_port, http_port, heap, pagecache, nice)
    if server.start(log=_log):
        console.print(f"Neo4j is up: {server.bolt_uri}  Browser: {server.browser_url}")
    else:
        console.print(f"Neo4j already runs (pid {server.pid()}): {server.bolt_uri}")
    console.print("user: neo4j, password: `sparsetopo server password`")


@server_app.command()
@friendly_errors
def stop() -> None:
    """Stop the server cleanly.

    **Example**: `sparsetopo server stop`
    """
    server = _server()
    console.print("stopped" if server.stop() else "the server was not running")


@server_app.command()
@friendly_errors
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Show pid, ports, version, data location and store size.

    **Example**: `sparsetopo server status --json`
    """
    info = _server().status()
    if as_json:
        print_json({**info.as_dict(), "writer": _writer_line(info)})
        return
    state = f"[green]running[/] (pid {info.pid})" if info.running else "[yellow]stopped[/]"
    console.print(f"state:     {state}")
    console.print(f"bolt:      {info.bolt_uri}")
    console.print(f"browser:   {info.browser_url}")
    console.print(f"version:   {info.version or 'not installed'}")
    console.print(f"home:      {info.home}")
    console.print(f"data:      {info.data_dir} ({info.store_bytes / 1e6:.1f} MB)")
    console.print(f"writer:    {_writer_line(info)}")


def _writer_line(info: Any) -> str:
    """Which snapshot writer ingestion uses on this server (plugin or Cypher) and why."""
    if not info.running:
        return f"plugin jar {info.plugin_jar}" if info.plugin_jar else "no plugin jar built"
    from sparsetopo.graphstore.backend import choose_writer
    from sparsetopo.graphstore.connection import open_driver

    try:
        driver, _ = open_driver(_server().connection())
    except Exception as exc:  # status must still print
        return f"unknown ({exc})"
    try:
        return choose_writer(driver).reason
    except Exception as exc:
        return f"unknown ({exc})"
    finally:
        driver.close()


@server_app.command()
@friendly_errors
def logs(lines: int = typer.Option(50, "-n", "--lines", help="How many lines.")) -> None:
    """Print the last lines of the server log.

    **Example**: `sparsetopo server logs -n 100`
    """
    console.print(_server().logs(lines), highlight=False, markup=False)


@server_app.command()
@friendly_errors
def password() -> None:
    """Print the generated password of user neo4j (for Neo4j Browser or other clients).

    **Example**: `sparsetopo server password`
    """
    sys.stdout.write(_server().password() + "\n")


def register(app: typer.Typer) -> None:
    app.add_typer(server_app, name="server")


#: The commands of this module; sparsetopo.cli.main merges them into the root app (add_typer).
app = typer.Typer()
register(app)
