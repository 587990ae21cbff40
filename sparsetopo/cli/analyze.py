"""CLI commands over stored runs: analyze, history, query, cypher, compare, plot.

Thin wrappers around :class:`sparsetopo.api.store.Store`; tables are rendered with rich, or
printed as JSON / CSV for scripts.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sparsetopo.errors import SparsetopoError

console = Console()
err_console = Console(stderr=True)


#: Columns of the `history` table when a run stores more than fit on a terminal.
_TABLE_FIRST = ("seq", "n_edges", "sparsity", "births", "deaths", "sign_flips", "ffl_balance",
                "unbalanced_ffl", "cycle4_balance", "nnstd_to_first", "overlap_prev_jaccard")
_TABLE_MAX = 12


def _fail(exc: Exception) -> None:
    err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
    raise typer.Exit(1)


def _open() -> Any:
    from sparsetopo.api.store import Store

    return Store.connect()


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "item"):
        return _jsonable(value.item())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return json.dumps(_jsonable(value), default=str)[:80]
    return str(value)


def emit(df: pd.DataFrame, as_json: bool = False, as_csv: bool = False, title: str | None = None,
         index: bool = False) -> None:
    """Print a DataFrame as a rich table, JSON records or CSV."""
    if index:
        df = df.reset_index()
    if as_json:
        records = [_jsonable(r) for r in df.to_dict(orient="records")]
        sys.stdout.write(json.dumps(records, indent=2, default=str) + "\n")
        return
    if as_csv:
        sys.stdout.write(df.to_csv(index=False))
        return
    table = Table(title=title, show_lines=False)
    for col in df.columns:
        table.add_column(str(col), overflow="fold")
    for row in df.itertuples(index=False):
        table.add_row(*[_fmt(v) for v in row])
    console.print(table)
    if df.empty:
        err_console.print("(no rows)")


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze_cmd(
        run: Annotated[str, typer.Argument(help="Run name.")],
        motifs: Annotated[bool, typer.Option("--motifs/--no-motifs", help="Motif counts and Z-scores.")] = True,
        balance: Annotated[bool, typer.Option("--balance/--no-balance", help="FFL / triangle / 4-cycle balance.")] = True,
        nnstd: Annotated[str, typer.Option(help="NNSTD pairs: chain (to first and previous), all, none.")] = "chain",
        overlap: Annotated[bool, typer.Option("--overlap/--no-overlap", help="Edge overlap with the previous snapshot.")] = True,
        null: Annotated[str | None, typer.Option(help="Null model (switching, sign_shuffle, layer_switching, zahn).")] = None,
        n_null: Annotated[int, typer.Option("--n-null", help="Null-model samples per snapshot.")] = 100,
        compare: Annotated[list[str] | None, typer.Option("--compare", help="Also compare with this run (repeatable).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Recompute results that exist.")] = False,
        workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
        seed: Annotated[int, typer.Option(help="Random seed of the null models.")] = 0,
        layer: Annotated[str | None, typer.Option(help="Analyse this weight layer only.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    ) -> None:
        """Compute motifs, balance, NNSTD and overlap for every snapshot and store them."""
        if nnstd not in ("chain", "all", "none"):
            _fail(ValueError(f"--nnstd must be chain, all or none (got {nnstd!r})"))
        try:
            with _open() as store:
                rep = store.analyze(
                    run, motifs=motifs, balance=balance,
                    nnstd=False if nnstd == "none" else nnstd, overlap=overlap, null=null,
                    n_null=n_null, compare=compare or (), force=force, workers=workers,
                    progress=not as_json, seed=seed, layer=layer,
                )
        except SparsetopoError as exc:
            _fail(exc)
        summary = {"run": rep.run, "snapshots": rep.snapshots, "computed": len(rep.computed),
                   "skipped": rep.skipped, "pairs": rep.pairs, "compared": rep.compared,
                   "seconds": round(rep.seconds, 2)}
        if as_json:
            sys.stdout.write(json.dumps(summary) + "\n")
        else:
            console.print(
                f"{rep.run}: computed {len(rep.computed)} of {rep.snapshots} snapshots "
                f"({rep.skipped} up to date), {rep.pairs} NNSTD/overlap pairs"
                + (f", compared with {', '.join(rep.compared)}" if rep.compared else "")
                + f" in {rep.seconds:.1f} s. See `sparsetopo history {rep.run}`."
            )

    @app.command("history")
    def history_cmd(
        run: Annotated[str, typer.Argument(help="Run name.")],
        stat: Annotated[list[str] | None, typer.Option("--stat", help="Only these statistics (repeatable).")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON records.")] = False,
        as_csv: Annotated[bool, typer.Option("--csv", help="CSV.")] = False,
    ) -> None:
        """Every stored statistic of every snapshot of a run, one row per step."""
        try:
            with _open() as store:
                df = store.history(run, stats=stat or None)
        except SparsetopoError as exc:
            _fail(exc)
        if not (as_json or as_csv) and stat is None and len(df.columns) > _TABLE_MAX:
            keep = [c for c in _TABLE_FIRST if c in df.columns]
            hidden = [c for c in df.columns if c not in keep]
            err_console.print(
                f"{len(hidden)} more columns ({', '.join(hidden)}): pick them with --stat NAME, "
                "or use --csv / --json"
            )
            df = df[keep]
        emit(df, as_json, as_csv, title=f"history of {run}", index=True)

    @app.command("query")
    def query_cmd(
        name: Annotated[str | None, typer.Argument(help="Library query name (see --list).")] = None,
        param: Annotated[list[str] | None, typer.Option("--param", "-p", help="k=v (int, float, bool, else string); repeatable.")] = None,
        list_: Annotated[bool, typer.Option("--list", help="List the library queries.")] = False,
        show: Annotated[bool, typer.Option("--show", help="Print the query text and its :param lines.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="JSON records.")] = False,
        as_csv: Annotated[bool, typer.Option("--csv", help="CSV.")] = False,
    ) -> None:
        """Run a query of the Cypher library (the same text works in Neo4j Browser)."""
        from sparsetopo.queries.library import get_query, library, parse_params

        try:
            if list_ or name is None:
                rows = [{"name": q.name, "parameters": ", ".join(q.params), "answers": q.title}
                        for q in library().values()]
                emit(pd.DataFrame(rows), as_json, as_csv, title="Cypher library")
                return
            q = get_query(name)
            if show:
                sys.stdout.write(f"// {q.title}\n")
                for key, value in q.examples.items():
                    sys.stdout.write(f":param {key} => {json.dumps(value)};\n")
                sys.stdout.write(q.text + ";\n")
                return
            params = parse_params(param or [])
            with _open() as store:
                df = store.query(name, **params)
        except SparsetopoError as exc:
            _fail(exc)
        emit(df, as_json, as_csv, title=name)

    @app.command("cypher")
    def cypher_cmd(
        text: Annotated[str, typer.Argument(help="A Cypher statement; use $name for parameters.")],
        param: Annotated[list[str] | None, typer.Option("--param", "-p", help="k=v; repeatable.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON records.")] = False,
        as_csv: Annotated[bool, typer.Option("--csv", help="CSV.")] = False,
        write: Annotated[bool, typer.Option("--write", help="Allow the statement to write or delete (default: read-only).")] = False,
    ) -> None:
        """Run any Cypher statement against the store (read-only unless --write)."""
        from neo4j.exceptions import Neo4jError

        from sparsetopo.queries.library import parse_params

        try:
            params = parse_params(param or [])
            with _open() as store:
                df = store.cypher(text, read_only_=not write, **params)
        except (SparsetopoError, Neo4jError) as exc:
            _fail(exc)
        emit(df, as_json, as_csv)

    @app.command("compare")
    def compare_cmd(
        run_a: Annotated[str, typer.Argument(help="First run.")],
        run_b: Annotated[str, typer.Argument(help="Second run (same architecture).")],
        write: Annotated[bool, typer.Option("--write/--no-write", help="Store NNSTD / OVERLAP relationships.")] = True,
        workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
        as_json: Annotated[bool, typer.Option("--json", help="JSON records.")] = False,
        as_csv: Annotated[bool, typer.Option("--csv", help="CSV.")] = False,
    ) -> None:
        """NNSTD and edge overlap of the aligned snapshots of two runs."""
        try:
            with _open() as store:
                df = store.compare(run_a, run_b, write=write, workers=workers,
                                   progress=not (as_json or as_csv))
        except SparsetopoError as exc:
            _fail(exc)
        emit(df, as_json, as_csv, title=f"{run_a} vs {run_b}")

    @app.command("plot")
    def plot_cmd(
        run: Annotated[str, typer.Argument(help="Run name.")],
        out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder (default ./sparsetopo-plots/RUN/).")] = None,
    ) -> None:
        """Write PNG figures of a run: balance and sparsity, motif Z-scores, NNSTD, turnover."""
        try:
            with _open() as store:
                paths = store.plot(run, out)
        except SparsetopoError as exc:
            _fail(exc)
        for p in paths:
            sys.stdout.write(f"{p}\n")
