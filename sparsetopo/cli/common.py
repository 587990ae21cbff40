"""What every command shares: the console, error reporting and the database connection."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sparsetopo.errors import SparsetopoError

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Print sparsetopo's own errors (which say what to fix) without a traceback; exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SparsetopoError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def open_store_driver(fail_fast: bool = False) -> Any:
    """Driver for the resolved database (NEO4J_* variables, else the managed server);
    ``fail_fast``: no driver retries (see graphstore.connection.open_driver)."""
    from sparsetopo.graphstore.connection import open_driver, resolve_connection

    def log(message: str) -> None:
        err_console.print(f"[dim]{message}[/]")

    driver, _ = open_driver(resolve_connection(log=log), fail_fast=fail_fast)
    return driver


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(rows: Sequence[dict[str, Any]], columns: Iterable[str] | None = None,
                title: str | None = None) -> None:
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    table = Table(title=title, header_style="bold")
    for col in cols:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(_fmt(row.get(col)) for col in cols))
    console.print(table)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def progress_bar(transient: bool = False) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
    )
