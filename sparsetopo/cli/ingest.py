"""`sparsetopo ingest`: checkpoint files into a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from sparsetopo.cli.common import (
    console,
    err_console,
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
    from sparsetopo.graphstore.runs import validate_name
    from sparsetopo.ingest.importers import read_inputs
    from sparsetopo.ingest.run_import import import_plan, plan_resume

    validate_name(run)
    step_list = None
    if steps:
        try:
            step_list = [int(s) for s in steps.split(",") if s.strip()]
        except ValueError:
            raise typer.BadParameter(
                "--steps takes integers separated by commas, e.g. 0,10,20"
            ) from None
    with err_console.status("reading and validating input files"):
        plan = read_inputs(list(paths), fmt=fmt, steps=step_list, drop_bias=not keep_bias,
                           allow_nonfinite=allow_nonfinite, n=n, layers=layers or None)
    if plan.dropped_nonfinite:
        err_console.print(f"[yellow]dropping {plan.dropped_nonfinite} NaN/Inf weight(s)[/]")
    from sparsetopo.ingest.metadata import read_metrics_file, sidecar_metadata

    step_values = [item.step for item in plan.items]
    found = sidecar_metadata(list(paths), step_values)
    if metrics is not None:
        found.add_metrics(read_metrics_file(metrics, step_values))
    for note in found.notes:
        err_console.print(f"[dim]{note}[/]")
    # No driver retries: a retried transaction whose commit was acknowledged too late could
    # write twice; a failed ingest is resumed by running the same command again instead.
    driver = open_store_driver(fail_fast=True)
    try:
        with err_console.status("checking the input against the stored run"):
            skip = [] if replace else plan_resume(driver, plan, run)
        with progress_bar() as progress:
            task = progress.add_task(f"ingesting into {run}", total=len(plan))
            result = import_plan(
                driver, plan, run,
                meta={"task": task_name, "model": model, "strategy": strategy or found.strategy,
                      "config": {"ingested_from": [str(p) for p in paths],
                                 "format": plan.format, **found.config}},
                replace=replace, progress=lambda k: progress.advance(task, k), skip=skip,
                metrics=found.metrics,
            )
    finally:
        driver.close()
    written = result.written
    if result.skipped:
        err_console.print(f"resumed: {len(result.skipped)} step(s) were already stored "
                          "identically and were skipped")
    summary: dict[str, Any] = {
        "run": run,
        "format": plan.format,
        "snapshots": len(written),
        "steps": [w.step for w in written],
        "edges_last": written[-1].n_edges if written else 0,
        "births_total": sum(w.births for w in written),
        "deaths_total": sum(w.deaths for w in written),
        "sign_flips_total": sum(w.flips for w in written),
        "nonfinite_dropped": plan.dropped_nonfinite,
        "skipped_already_stored": result.skipped,
    }
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"wrote {summary['snapshots']} snapshot(s) of run [bold]{run}[/] "
            f"(steps {summary['steps'][0] if written else '-'}..{summary['steps'][-1] if written else '-'}, "
            f"{summary['edges_last']} edges at the last step, {summary['births_total']} births, "
            f"{summary['deaths_total']} deaths, {summary['sign_flips_total']} sign flips)"
        )


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


#: The commands of this module; sparsetopo.cli.main merges them into the root app (add_typer).
app = typer.Typer()
register(app)
