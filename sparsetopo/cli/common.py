"""What every command shares: consoles, the error path, the `k=v` parser and table output.

Contract of the command line (docs/cli.md):

* exit 0: done;
* exit 1: the operation failed (any :class:`~sparsetopo.errors.SparsetopoError`, a database
  error); one line on stderr that names the problem and the fix, no traceback;
* exit 2: usage error (unknown option, bad choice, missing argument), reported by Click before
  any work;
* exit 130: interrupted.

Tables never wrap a number: every column is formatted by :func:`fmt_column` (whole numbers
as integers, other numbers with the same decimals down the column), numeric columns are
right-aligned and as wide as their widest cell or header, text columns wrap at spaces (never
inside a word), and a table wider than the terminal is split into pages of columns that each
repeat the first (key) column.
"""

from __future__ import annotations

import functools
import json
import math
import re
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

#: Exit codes of every command.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------------------- the error path
def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; return the Exit(1) for the caller to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_FAILED)


def friendly_errors(func: F) -> F:
    """Run a command with the one error path of the command line.

    sparsetopo's own errors (which say what to fix) and database errors print one line and exit
    1; Ctrl-C exits 130. Usage errors never get here: Click reports them with exit 2.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SparsetopoError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            if _is_driver_error(exc):
                raise fail(f"the database refused the operation: {one_line(exc)}") from None
            raise

    return wrapper  # type: ignore[return-value]


def one_line(exc: BaseException) -> str:
    """A database error as one line: the first line of the server's message (a syntax error's
    position included, its echo of the statement and the caret left out) and its code.

    >>> class E(Exception):
    ...     code = "Neo.ClientError.Statement.SyntaxError"
    >>> one_line(E("Invalid input 'MATC' (line 1, column 1)" + chr(10) + '"MATC (n)"'))
    "Invalid input 'MATC' (line 1, column 1) [Neo.ClientError.Statement.SyntaxError]"
    """
    text = str(getattr(exc, "message", None) or exc)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    # a syntax error lists every token the parser would have taken: keep what and where
    first = re.sub(r"^(Invalid input '[^']*'): expected .{80,}? (\(line \d+, column \d+)",
                   r"\1 \2", first)
    code = getattr(exc, "code", None)
    return f"{first} [{code}]" if code else first


def _is_driver_error(exc: Exception) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith("neo4j.")


# ---------------------------------------------------------------------------- k=v options
def parse_pairs(pairs: Sequence[str], option: str) -> dict[str, Any]:
    """``["key=value", ...]`` from a repeatable option -> dict.

    Keys may use ``-`` for ``_`` and must then be identifiers. Values: JSON lists/objects
    (``[0.5, 0.9]``), else integers, floats, true/false, null/none, quoted strings, else the
    text itself (the same coercion as Neo4j Browser's ``:param``).
    """
    from sparsetopo.errors import InputError
    from sparsetopo.queries.library import coerce_value

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise InputError(f"{option} {pair!r} is not of the form name=value; write e.g. step=100")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise InputError(
                f"{option} name {key!r} is not an identifier (letters, digits, _); e.g. step=100"
            )
        text = raw.strip()
        if text[:1] in "[{":
            try:
                out[key] = json.loads(text)
                continue
            except json.JSONDecodeError as exc:
                raise InputError(f"{option} {key}: {text!r} is not valid JSON ({exc.msg})") from None
        out[key] = coerce_value(text)
    return out


# ---------------------------------------------------------------------------- numbers and tables
def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars; everything else unchanged."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes, list, dict, tuple)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def fmt_value(value: Any) -> str:
    """One table cell: integers exact, other numbers with 4 significant digits, NaN/None ``-``.

    >>> [fmt_value(v) for v in (2250, 0.5, 2 / 3, 1234.5, 123456.0, 1e-7, float("nan"), None)]
    ['2250', '0.5000', '0.6667', '1234', '1.235e+05', '1.000e-07', '-', '-']
    """
    value = _plain(value)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
            return f"{value:.3e}"
        text = f"{value:#.4g}"
        return text[:-1] if text.endswith(".") else text
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(jsonable(value), default=str)
    return str(value)


def _finite_float(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def fmt_column(values: Sequence[Any]) -> list[str]:
    """Format one table column so that its numbers line up and share their decimals.

    A column whose numbers are all whole prints them as integers (a step stored as 1.0 is
    ``1``); other numbers get the same number of decimals, enough for 4 significant digits of
    the largest (between 1 and 6), or scientific notation for all when the column reaches 1e4
    or holds only values below 1e-3. Other cells are formatted by :func:`fmt_value`.

    >>> fmt_column([0.0, 0.068, 0.142])
    ['0.0000', '0.0680', '0.1420']
    >>> fmt_column([1.0, 250.0, None]), fmt_column([12.5, 0.25]), fmt_column([123456.0, 0.5])
    (['1', '250', '-'], ['12.50', '0.25'], ['1.235e+05', '5.000e-01'])
    """
    plain = [_plain(v) for v in values]

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if not any(_finite_float(v) for v in plain):
        return [fmt_value(v) for v in plain]
    nums = [float(v) for v in plain if number(v)]
    if all(v.is_integer() and abs(v) < 1e15 for v in nums):
        return [str(int(v)) if number(v) else fmt_value(v) for v in plain]
    biggest = max(abs(v) for v in nums)
    if biggest >= 1e4 or biggest < 1e-3:
        return [f"{v:.3e}" if number(v) else fmt_value(v) for v in plain]
    decimals = min(6, max(1, 3 - math.floor(math.log10(biggest))))
    return [f"{v:.{decimals}f}" if number(v) else fmt_value(v) for v in plain]


def _is_number(value: Any) -> bool:
    """Numbers and missing values (a column of them is right-aligned)."""
    value = _plain(value)
    if value is None:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/Inf become null, numpy scalars Python numbers."""
    value = _plain(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(jsonable(data), indent=2, default=str) + "\n")


#: A text column narrower than its cells wraps them at spaces, but is kept this wide.
_TEXT_MIN = 12
#: Words longer than this (paths, JSON) may be folded inside text columns.
_WORD_MAX = 30


def _min_width(header: str, cells: Sequence[str], wraps: bool) -> int:
    """The narrowest a column may get: numbers and headers whole, text at its longest word."""
    full = max([len(header), *(len(c) for c in cells)])
    if not wraps:
        return full
    # a longer word (a path) is folded rather than widening the table beyond the terminal
    word = max([len(header), *(min(len(w), _WORD_MAX) for c in cells for w in c.split())])
    return max(word, min(full, _TEXT_MIN))


def table_pages(
    columns: Sequence[str], cells: Sequence[Sequence[str]], width: int,
    wraps: Sequence[bool] | None = None,
) -> list[list[int]]:
    """Split column indices into pages that fit ``width``; every page starts with column 0.

    A column with ``wraps[j]`` True may wrap its text at spaces, so it only needs the width of
    its longest word (at least :data:`_TEXT_MIN` when its cells are longer).
    """
    wraps = wraps or [False] * len(columns)
    widths = [_min_width(col, [row[j] for row in cells], wraps[j])
              for j, col in enumerate(columns)]
    # a rich table with the default box costs 3 characters per column plus 1
    pages: list[list[int]] = []
    current = [0]
    used = 1 + widths[0] + 3 if widths else 1
    for j in range(1, len(columns)):
        need = widths[j] + 3
        if used + need > width and len(current) > 1:
            pages.append(current)
            current = [0]
            used = 1 + widths[0] + 3
        current.append(j)
        used += need
    pages.append(current)
    return pages


def _fit_widths(columns: Sequence[str], cells: Sequence[Sequence[str]], wraps: Sequence[bool],
                width: int) -> list[int]:
    """Column widths for one page: numbers and keys whole, the room left shared among the text
    columns in proportion to how much text each holds (so a long description gets the space a
    short list of names does not need)."""
    full = [max([len(c), *(len(r[j]) for r in cells)]) for j, c in enumerate(columns)]
    least = [_min_width(c, [r[j] for r in cells], wraps[j]) for j, c in enumerate(columns)]
    room = width - 1 - 3 * len(columns) - sum(f for f, w in zip(full, wraps, strict=True) if not w)
    text = [j for j, w in enumerate(wraps) if w]
    if sum(full[j] for j in text) <= room:
        return full
    spare = max(0, room - sum(least[j] for j in text))
    need = sum(full[j] - least[j] for j in text) or 1
    out = list(full)
    for j in text:
        out[j] = least[j] + spare * (full[j] - least[j]) // need
    return out


def print_table(
    rows: Sequence[dict[str, Any]],
    columns: Iterable[str] | None = None,
    title: str | None = None,
    out: Console | None = None,
) -> None:
    """Print dict rows as one or more tables that fit the terminal (pages of columns).

    The first column is the key (step, name, ...) and is repeated on every page. Numbers are
    right-aligned and never wrap; headers are never split (a column is at least as wide as its
    header).
    """
    out = out or console
    cols = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    if not cols:
        return
    by_column = [fmt_column([row.get(c) for row in rows]) for c in cols]
    cells = [[by_column[j][i] for j in range(len(cols))] for i in range(len(rows))]
    numeric = [all(_is_number(row.get(c)) for row in rows) and bool(rows) for c in cols]
    # text wraps at spaces (never inside a word); the key column and numbers never wrap
    wraps = [j > 0 and not numeric[j] for j in range(len(cols))]
    pages = table_pages(cols, cells, out.width, wraps)
    for k, page in enumerate(pages):
        suffix = f" ({k + 1}/{len(pages)})" if len(pages) > 1 else ""
        table = Table(title=(title or "") + suffix if (title or suffix) else None,
                      header_style="bold", title_justify="left")
        widths = _fit_widths([cols[j] for j in page], [[r[j] for j in page] for r in cells],
                             [wraps[j] for j in page], out.width)
        for j, w in zip(page, widths, strict=True):
            table.add_column(cols[j], justify="right" if numeric[j] else "left",
                             no_wrap=not wraps[j], min_width=w, max_width=w,
                             overflow="fold" if wraps[j] else "ellipsis")
        for r in cells:
            table.add_row(*(escape(r[j]) for j in page))
        out.print(table)


def emit(df: Any, as_json: bool = False, as_csv: bool = False, title: str | None = None,
         index: bool = False) -> None:
    """Print a DataFrame as tables (default), JSON records or CSV."""
    if index:
        df = df.reset_index()
    if as_json:
        print_json(df.to_dict(orient="records"))
        return
    if as_csv:
        sys.stdout.write(df.to_csv(index=False))
        return
    print_table(df.to_dict(orient="records"), [str(c) for c in df.columns], title=title)
    if df.empty:
        err_console.print("(no rows)")


# ---------------------------------------------------------------------------- database, progress
def _log(message: str) -> None:
    err_console.print(f"[dim]{escape(message)}[/]")


def open_store() -> Any:
    """The :class:`~sparsetopo.api.store.Store` of the resolved database.

    NEO4J_* variables when set, else the managed server (started if needed).
    """
    from sparsetopo.api.store import Store

    return Store.connect(log=_log)


def open_store_driver(fail_fast: bool = False) -> Any:
    """Driver for the resolved database (NEO4J_* variables, else the managed server).

    ``fail_fast``: no driver retries (see graphstore.connection.open_driver).
    """
    from sparsetopo.graphstore.connection import open_driver, resolve_connection

    driver, _ = open_driver(resolve_connection(log=_log), fail_fast=fail_fast)
    return driver


def progress_bar(transient: bool = False) -> Progress:
    """The progress bar every long command shows on stderr."""
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
