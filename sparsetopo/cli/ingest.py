"""`sparsetopo ingest`: checkpoint files into a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from sparsetopo.cli.common import (
    console,
    err_console,
    escape,
    friendly_errors,
    open_store_driver,
    print_json,
    progress_bar,
)


@friendly_errors
def ingest(
    paths: list[Path] = typer.Argument(
        ..., help="Files or directories (directories are expanded and sorted by step).",
        exists=False,
    ),
    run: str = typer.Option(..., "--run", "-r", help="Run name to write into."),
    fmt: str = typer.Option(
        None, "--format", "-f",
        help="csv (Id,Source,Target,Weight edge list), pt (state_dict checkpoint), safetensors "
        "or npz (weight_l{k}.npz per layer). Default: from the extension.",
    ),
    steps: str = typer.Option(
        None, help="Comma-separated steps, one per snapshot (default: the number at the end "
        "of each file name, else the order given).",
    ),
    keep_bias: bool = typer.Option(
        False, "--keep-bias", help="npz: keep the last (bias) row as a 'bias' source unit."
    ),
    allow_nonfinite: bool = typer.Option(
        False, "--allow-nonfinite", help="Drop NaN/Inf weights (and count them) instead of failing."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Delete an existing run of this name and write it anew."
    ),
    n: int = typer.Option(None, help="csv: number of units (default: largest index + 1)."),
    task_name: str = typer.Option(None, "--task", help="Task the run was trained on (stored on the run)."),
    model: str = typer.Option(None, "--model", help="Model name (stored on the run)."),
    strategy: str = typer.Option(
        None, "--strategy", help="Sparsification strategy, e.g. pruning or SET (stored on the run)."
    ),
    metrics: Path = typer.Option(
        None, "--metrics", help="Per-step metrics: CSV with a step column, JSON, or one value "
        "per line (see docs/ingest-formats.md). test_accuracy.txt and hp.json beside the inputs "
        "are picked up anyway.",
    ),
    layers: list[str] = typer.Option(
        None, "--layers", help="Import only layers whose name matches this glob (repeatable), "
        "e.g. --layers 'encoder.layer.0.*'.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a machine-readable summary."),
) -> None:
    """Import checkpoint files (edge-list CSV, .pt state dicts, .npz layers) as snapshots of a run.

    Every file is read and validated before anything is written, so bad input writes nothing.
    Running the same command again after an interruption resumes: steps already stored
    identically are skipped.

    Example: sparsetopo ingest tests/data/zhang2023-sparse-rnn/MNIST/pruning_n_150_p_0.05 --run zhang-prune
    """
    from sparsetopo.errors import InputError
    from sparsetopo.ingest.ingest_files import ingest_files, parse_steps

    try:
        step_list = parse_steps(steps)
    except InputError:
        raise typer.BadParameter("--steps takes integers separated by commas, e.g. 0,10,20") from None
    opened: list[Any] = []

    def connect() -> Any:
        # No driver retries: a retried transaction whose commit was acknowledged too late could
        # write twice; a failed ingest is resumed by running the same command again instead.
        opened.append(open_store_driver(fail_fast=True))
        return opened[-1]

    try:
        with progress_bar(transient=True) as bar:
            task = bar.add_task("reading and validating input files", total=None)
            result = ingest_files(
                connect, paths, run, fmt=fmt, steps=step_list, keep_bias=keep_bias,
                allow_nonfinite=allow_nonfinite, replace=replace, n=n, task=task_name,
                model=model, strategy=strategy, metrics=metrics, layers=layers or None,
                stage=lambda what: bar.update(task, description=what),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    finally:
        for driver in opened:
            driver.close()
    for note in result.notes:
        err_console.print(f"[dim]{escape(note)}[/]")
    written = result.steps
    if result.skipped_already_stored:
        err_console.print(f"resumed: {len(result.skipped_already_stored)} step(s) were already "
                          "stored identically and were skipped")
    summary: dict[str, Any] = result.to_dict()
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"wrote {summary['snapshots']} snapshot(s) of run [bold]{run}[/] "
            f"(steps {written[0] if written else '-'}..{written[-1] if written else '-'}, "
            f"{summary['edges_last']} edges at the last step, {summary['births_total']} births, "
            f"{summary['deaths_total']} deaths, {summary['sign_flips_total']} sign flips)"
        )


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


#: The commands of this module; sparsetopo.cli.main merges them into the root app (add_typer).
app = typer.Typer()
register(app)
