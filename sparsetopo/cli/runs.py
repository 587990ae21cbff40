"""`sparsetopo runs`, `sparsetopo run show|delete`, `sparsetopo export`."""

from __future__ import annotations

from pathlib import Path

import typer

from sparsetopo.cli.common import (
    console,
    err_console,
    friendly_errors,
    open_store_driver,
    print_json,
    print_table,
)

run_app = typer.Typer(help="Inspect or delete one run.", no_args_is_help=True)


@friendly_errors
def runs(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the stored runs with their snapshot counts."""
    from sparsetopo.graphstore.liveness import RESUME_HINT, run_states
    from sparsetopo.graphstore.runs import list_runs

    driver = open_store_driver()
    try:
        rows = list_runs(driver)
        states = run_states(driver)
    finally:
        driver.close()
    for row in rows:
        row["status"] = states.get(row["name"], row["status"])
    if as_json:
        print_json(rows)
    elif not rows:
        console.print("no runs yet: `sparsetopo ingest PATH --run NAME` or `sparsetopo train ...`")
    else:
        print_table(rows, ["name", "snapshots", "last_step", "max_sparsity", "task", "strategy",
                           "model", "status", "created_at"], title="runs")
        if any(row["status"] == "interrupted" for row in rows):
            err_console.print(f"interrupted: {RESUME_HINT}")


@run_app.command("show")
@friendly_errors
def show(
    name: str = typer.Argument(..., help="Run name."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show a run: its layers and its snapshots (step, edges, sparsity, turnover, metrics)."""
    from sparsetopo.graphstore.liveness import RESUME_HINT, run_states
    from sparsetopo.graphstore.reader import list_snapshots
    from sparsetopo.graphstore.runs import require_run, run_architecture

    driver = open_store_driver()
    try:
        run = require_run(driver, name)
        run["status"] = run_states(driver).get(name, run.get("status"))
        arch = run_architecture(driver, name)
        snaps = list_snapshots(driver, name)
    finally:
        driver.close()
    layers = [dict(spec.__dict__) for spec in arch.layers]
    if as_json:
        run = {k: v for k, v in run.items() if k != "architecture_json"}
        print_json({"run": run, "groups": arch.groups, "layers": layers, "snapshots": snaps})
        return
    console.print(f"[bold]{name}[/]  task={run.get('task') or '-'}  strategy="
                  f"{run.get('strategy') or '-'}  model={run.get('model') or '-'}  "
                  f"status={run.get('status')}")
    print_table(layers, ["name", "kind", "gate", "src_group", "dst_group", "n_in", "n_out"],
                title="layers")
    base = ["seq", "step", "epoch", "n_edges", "sparsity", "births", "deaths", "sign_flips"]
    skip = set(base) | {"run_id", "complete", "created_at", "source"}
    extra = sorted({k for s in snaps for k in s if k not in skip})
    print_table(snaps, base + extra, title="snapshots")
    if run["status"] == "interrupted":
        err_console.print(f"interrupted: {RESUME_HINT.replace('NAME', name)}")


@run_app.command("delete")
@friendly_errors
def delete(
    name: str = typer.Argument(..., help="Run name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a run and everything it owns (batched; safe to re-run if interrupted)."""
    from neo4j.exceptions import DriverError, Neo4jError

    from sparsetopo.errors import ServerError
    from sparsetopo.graphstore.runs import delete_run, find_run, require_run

    driver = open_store_driver()
    try:
        if find_run(driver, name) is None:  # an interrupted delete ('deleting') is finished
            require_run(driver, name)
        if not yes:
            typer.confirm(f"Delete run {name!r} and all its snapshots?", abort=True)
        with err_console.status(f"deleting {name}") as status:
            delete_run(driver, name, progress=lambda what: status.update(f"deleting {what}"))
    except (DriverError, Neo4jError) as exc:
        text = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
        raise ServerError(
            f"the database failed while deleting run {name!r} ({type(exc).__name__}: {text}); "
            "the run is hidden from listings meanwhile: run the same command again to finish"
        ) from exc
    finally:
        driver.close()
    console.print(f"deleted run {name}")


@friendly_errors
def export(
    run: str = typer.Argument(..., help="Run name."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (csv) or directory (npz)."),
    step: int = typer.Option(None, help="Step to export (default: the last)."),
    fmt: str = typer.Option("npz", "--format", "-f", help="npz (weight_l{k}.npz per layer) or csv."),
    layer: str = typer.Option(None, help="csv: which layer (needed when the run has several)."),
) -> None:
    """Export one snapshot's exact weights to npz or CSV (the formats `ingest` reads)."""
    from sparsetopo.errors import InputError
    from sparsetopo.graphstore.reader import read_snapshot
    from sparsetopo.graphstore.runs import run_architecture
    from sparsetopo.ingest.importers import write_csv_snapshot, write_npz_snapshot

    if fmt not in ("npz", "csv"):
        raise InputError(f"--format {fmt!r} is not supported; use npz or csv")
    driver = open_store_driver()
    try:
        arch = run_architecture(driver, run)
        snap = read_snapshot(driver, run, step=step)
    finally:
        driver.close()
    try:
        if fmt == "csv":
            written = [write_csv_snapshot(snap, arch, out, layer=layer)]
        else:
            written = write_npz_snapshot(snap, arch, out)
    except OSError as exc:
        raise InputError(
            f"cannot write {out}: {exc.strerror or exc}; choose a writable --out path"
        ) from exc
    console.print(f"exported step {snap.step} of {run} ({snap.n_edges} edges):")
    for path in written:
        console.print(f"  {path}")


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)
    app.add_typer(run_app, name="run")
    app.command("export")(export)
