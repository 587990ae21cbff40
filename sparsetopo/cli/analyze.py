"""CLI commands over stored runs: analyze, history, query, cypher, compare, plot.

Thin wrappers around :class:`sparsetopo.api.store.Store`; tables are rendered by
:mod:`sparsetopo.cli.common`, or printed as JSON / CSV for scripts.
"""

from __future__ import annotations

import json
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from sparsetopo.cli.common import (
    console,
    emit,
    err_console,
    friendly_errors,
    open_store,
    parse_pairs,
)
from sparsetopo.cli.progress import progress_bar


class NullModel(str, Enum):
    """Null models of the motif Z-scores (analysis.zscores GRAPH_NULLS and LAYERED_NULLS)."""

    sign_shuffle = "sign_shuffle"
    switching = "switching"
    layer_switching = "layer_switching"
    zahn = "zahn"


class NNSTDPairs(str, Enum):
    """NNSTD pairs analyze computes."""

    chain = "chain"
    all = "all"
    none = "none"


class ExecutorKind(str, Enum):
    """Where analyze runs its work."""

    local = "local"
    dask = "dask"


class PlotFormat(str, Enum):
    """File formats of `plot`."""

    png = "png"
    pdf = "pdf"
    svg = "svg"


class QueryBackend(str, Enum):
    """Which variant of a library query runs (queries with a server-plugin variant: overlap)."""

    auto = "auto"
    plugin = "plugin"
    cypher = "cypher"


class HistoryBy(str, Enum):
    """Rows of `history`: one per snapshot, per (snapshot, layer) or per (snapshot, part)."""

    snapshot = "snapshot"
    layer = "layer"
    part = "part"


@friendly_errors
def analyze(
    run: Annotated[str, typer.Argument(help="Run name.")],
    motifs: Annotated[bool, typer.Option("--motifs/--no-motifs", help="Motif counts and Z-scores.")] = True,
    balance: Annotated[bool, typer.Option("--balance/--no-balance", help="FFL, triangle and 4-cycle balance.")] = True,
    nnstd: Annotated[NNSTDPairs, typer.Option(help="NNSTD pairs: chain (to the first and the previous snapshot), all, or none.")] = NNSTDPairs.chain,  # type: ignore[valid-type, attr-defined]
    overlap: Annotated[bool, typer.Option("--overlap/--no-overlap", help="Edge overlap with the previous snapshot.")] = True,
    null: Annotated[NullModel | None, typer.Option(metavar="MODEL", help=f"Null model of the motif Z-scores: {', '.join(m.value for m in NullModel)} (default: switching for a recurrent layer, layer_switching for a feed-forward stack).")] = None,  # type: ignore[valid-type]
    n_null: Annotated[int, typer.Option("--n-null", min=1, help="Null-model samples per snapshot.")] = 100,
    compare: Annotated[list[str] | None, typer.Option("--compare", metavar="RUN", help="Also compare with this run (repeatable).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Recompute results that exist.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (local executor).")] = 2,
    executor: Annotated[ExecutorKind, typer.Option(help="local (process pool) or dask (a Dask cluster; needs --scheduler).")] = ExecutorKind.local,  # type: ignore[valid-type, attr-defined]
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://head:8786.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the null models.")] = 0,
    layer: Annotated[str | None, typer.Option(help="Analyse this weight layer only (an unknown name lists the valid ones).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Compute motifs, balance, NNSTD and overlap for every snapshot and store them.

    Only what is missing is computed unless --force; running it again replaces results instead
    of duplicating them. The progress bar counts snapshots to analyse plus snapshot pairs for
    NNSTD and overlap, with an ETA. Motif Z-scores are stored with their Monte Carlo standard
    error (z_se); fewer than 50 null samples give a warning.

    **Example**: `sparsetopo analyze zhang-prune --null switching --n-null 50`
    """
    mode = nnstd.value  # type: ignore[attr-defined]
    with open_store() as store, progress_bar(not as_json) as bar:
        rep = store.analyze(
            run, motifs=motifs, balance=balance, nnstd=False if mode == "none" else mode,
            overlap=overlap, null=null.value if null is not None else None,  # type: ignore[attr-defined]
            n_null=n_null, compare=compare or (), force=force, workers=workers,
            progress=bar, seed=seed, layer=layer,
            executor=executor.value, scheduler=scheduler,  # type: ignore[attr-defined]
        )
    summary = {"run": rep.run, "snapshots": rep.snapshots, "computed": len(rep.computed),
               "skipped": rep.skipped, "pairs": rep.pairs, "compared": rep.compared,
               "seconds": round(rep.seconds, 2)}
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    console.print(
        f"{rep.run}: computed {len(rep.computed)} of {rep.snapshots} snapshots "
        f"({rep.skipped} up to date), {rep.pairs} NNSTD/overlap pairs"
        + (f", compared with {', '.join(rep.compared)}" if rep.compared else "")
        + f" in {rep.seconds:.1f} s. See `sparsetopo history {rep.run}`."
    )
    from sparsetopo.analysis.zscores import MIN_NULL_SAMPLES

    if motifs and rep.computed and n_null < MIN_NULL_SAMPLES:
        err_console.print(
            f"[yellow]note:[/] the Z-scores' Monte Carlo errors ({n_null} null samples): "
            f"`sparsetopo history {rep.run} --stat motif_z_se_max`, `sparsetopo query "
            f"motif_history -p run={rep.run}` (column z_se), `sparsetopo plot {rep.run}` (bands).", highlight=False)


@friendly_errors
def history(
    run: Annotated[str, typer.Argument(help="Run name.")],
    stat: Annotated[list[str] | None, typer.Option("--stat", metavar="NAME", help="Only these columns, in this order (repeatable).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every stored column (turnover, markers, bookkeeping).")] = False,
    by: Annotated[HistoryBy, typer.Option("--by", help="One row per snapshot, per (step, layer): edges, density, overlap, NNSTD and a recurrent layer's balance; or per (step, part): every analysed graph.")] = HistoryBy.snapshot,  # type: ignore[valid-type, attr-defined]
    layer: Annotated[list[str] | None, typer.Option("--layer", metavar="NAME", help="With --by layer: only these layers (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON records (every column).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV (every column).")] = False,
) -> None:
    """Show the stored statistics of every snapshot of a run, one row per step.

    By default: size and sparsity, your own metrics, then each analysis statistic next to its
    null-model value and Z-score. Tables wider than the terminal continue on further pages that
    repeat the step column.

    **Example**: `sparsetopo history zhang-prune --stat ffl_balance --stat ffl_balance_z`,
    `sparsetopo history resnet --by layer --layer conv1.weight`
    """
    from sparsetopo.api.store import history_order

    mode = by.value  # type: ignore[attr-defined]
    with open_store() as store:
        df = store.history(run, stats=stat or None, by=mode, layers=layer or None)
    if mode != "snapshot":
        if df.empty and not (as_json or as_csv):
            console.print(f"run {run!r} has no per-{mode} results yet; run "
                          f"`sparsetopo analyze {run}` first")
            return
        emit(df, as_json, as_csv, title=f"history of {run} by {mode}", index=True)
        return
    if not (stat or all_ or as_json or as_csv):
        groups = history_order(list(df.columns))
        keep = [c for c in ("n_edges", "sparsity") if c in df.columns]
        df = df[keep + groups["metrics"] + groups["statistics"]]
    emit(df, as_json, as_csv, title=f"history of {run}", index=True)


@friendly_errors
def query(
    name: Annotated[str | None, typer.Argument(help="Library query name (see --list).")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", metavar="NAME=VALUE", help="Query parameter, repeatable (numbers, true/false, else text).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the library queries.")] = False,
    show: Annotated[bool, typer.Option("--show", help="Print the query text with its :param lines.")] = False,
    backend: Annotated[QueryBackend, typer.Option(help="For a query with a server-plugin variant (overlap): auto (the plugin if the server has it, else plain Cypher), plugin or cypher.")] = QueryBackend.auto,  # type: ignore[valid-type, attr-defined]
    as_json: Annotated[bool, typer.Option("--json", help="JSON records.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV.")] = False,
) -> None:
    """Run a query of the Cypher library (the same text works in Neo4j Browser).

    `overlap` runs in sparsetopo's server plugin when the server has it (see --backend).

    **Example**: `sparsetopo query overlap -p run=zhang-prune -p step_a=100 -p step_b=200`
    """
    from sparsetopo.queries.library import get_query, library

    if list_ or name is None:
        import pandas as pd

        rows = [{"name": q.name, "parameters": ", ".join(q.params),
                 "answers": q.title if as_json or as_csv else _first_sentence(q.title)}
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
    params = q.check(parse_pairs(param or [], "--param"))
    with open_store() as store:
        df = store.query(name, backend_=backend.value, **params)  # type: ignore[attr-defined]
    emit(df, as_json, as_csv, title=name)


def _first_sentence(text: str) -> str:
    """The first sentence of a query's description (`query NAME --show` prints all of it).

    >>> _first_sentence("Loops (Zhang et al. 2023) of a layer. The class follows.")
    'Loops (Zhang et al. 2023) of a layer.'
    """
    match = re.search(r"(?<!\bal)(?<!\be\.g)(?<!\bi\.e)\.\s+(?=[A-Z])", text)
    return text[: match.start() + 1] if match else text


@friendly_errors
def cypher(
    text: Annotated[str, typer.Argument(help="A Cypher statement; use $name for parameters.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", metavar="NAME=VALUE", help="Statement parameter, repeatable.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON records.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV.")] = False,
    write: Annotated[bool, typer.Option("--write", help="Allow the statement to write or delete (default: read-only).")] = False,
) -> None:
    """Run any Cypher statement against the store (read-only unless --write).

    **Example**: `sparsetopo cypher 'MATCH (r:Run {name: $run}) RETURN r.n_snapshots' -p run=zhang-prune` (single quotes: the shell leaves `$run` alone)
    """
    params = parse_pairs(param or [], "--param")
    with open_store() as store:
        df = store.cypher(text, read_only_=not write, **params)
    emit(df, as_json, as_csv)


@friendly_errors
def compare(
    run_a: Annotated[str, typer.Argument(help="First run.")],
    run_b: Annotated[str, typer.Argument(help="Second run (same architecture).")],
    write: Annotated[bool, typer.Option("--write/--no-write", help="Store NNSTD / OVERLAP relationships.")] = True,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="JSON records.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV.")] = False,
) -> None:
    """Compare the aligned snapshots of two runs: NNSTD and edge overlap.

    **Example**: `sparsetopo compare zhang-prune zhang-set --no-write`
    """
    with open_store() as store, progress_bar(not (as_json or as_csv)) as bar:
        df = store.compare(run_a, run_b, write=write, workers=workers, progress=bar)
    emit(df, as_json, as_csv, title=f"{run_a} vs {run_b}")


@friendly_errors
def plot(
    runs: Annotated[list[str], typer.Argument(help="Run name; several runs are overlaid.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder (default ./sparsetopo-plots/RUN[+RUN...]/).")] = None,
    fmt: Annotated[PlotFormat, typer.Option("--format", help="File format.")] = PlotFormat.png,  # type: ignore[valid-type, attr-defined]
    dpi: Annotated[int, typer.Option("--dpi", min=10, max=2400, help="Resolution of PNG figures.")] = 150,
) -> None:
    """Write figures of one run or several overlaid: balance and sparsity, motif Z-scores and
    null bands per family, NNSTD, turnover.

    **Example**: `sparsetopo plot zhang-prune zhang-set --format svg`
    """
    with open_store() as store:
        paths = store.plot(runs, out, fmt=fmt.value, dpi=dpi)  # type: ignore[attr-defined]
    for p in paths:
        sys.stdout.write(f"{p}\n")


def register(app: typer.Typer) -> None:
    """Add analyze, history, query, cypher, compare and plot to ``app``."""
    app.command("analyze")(analyze)
    app.command("history")(history)
    app.command("query")(query)
    app.command("cypher")(cypher)
    app.command("compare")(compare)
    app.command("plot")(plot)


#: The commands of this module; sparsetopo.cli.main merges them into the root app (add_typer).
app = typer.Typer()
register(app)
