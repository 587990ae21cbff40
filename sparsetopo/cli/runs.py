"""`sparsetopo runs`, `sparsetopo run show|delete`, `sparsetopo export`: through api.Store."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from sparsetopo.cli.common import (
    console,
    err_console,
    friendly_errors,
    open_store,
    print_json,
    print_table,
)
from sparsetopo.errors import InputError

run_app = typer.Typer(
    help="Inspect or delete one run.\n\n**Example**: `sparsetopo run show zhang-prune`",
    no_args_is_help=True,
)


class ExportFormat(str, Enum):
    """Formats `export` writes (the formats `ingest` reads)."""

    npz = "npz"
    csv = "csv"

_RUN_COLUMNS = ["name", "snapshots", "last_step", "sparsity", "target", "strategy", "task",
                "model", "status", "writer", "created_at"]


def _config(run: dict[str, Any]) -> dict[str, Any]:
    """The run's stored configuration (hyperparameters), {} when there is none."""
    raw = run.get("config_json") or run.get("config")
    if isinstance(raw, dict):
        return raw
    try:
        data = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def target_of(config: dict[str, Any]) -> tuple[float | None, str]:
    """The sparsity a run's strategy aimed at and the layers it applies to.

    >>> target_of({"sparsity": 0.9, "sparsified": ["W_rec"]})
    (0.9, 'W_rec')
    >>> target_of({})
    (None, '')
    """
    value = config.get("sparsity")
    layers = config.get("sparsified") or []
    target = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return target, ", ".join(str(x) for x in layers)


@friendly_errors
def runs(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the stored runs with their snapshot counts.

    **Example**: `sparsetopo runs --json`
    """
    with open_store() as store:
        df = store.runs()
        targets = {}
        if not as_json and not df.empty:
            for name, raw in store.run_configs().items():
                targets[name] = target_of(_config({"config_json": raw}))[0]
    rows = df.to_dict(orient="records")
    if as_json:
        print_json(rows)
    elif not rows:
        console.print("no runs yet: `sparsetopo ingest PATH --run NAME` or `sparsetopo train ...`")
    else:
        for row in rows:
            row["sparsity"] = row.get("max_sparsity")
            row["target"] = targets.get(row["name"])
        print_table(rows, _RUN_COLUMNS, title="runs")
        console.print("sparsity: zero weights among all recorded layers (graph-wide, the highest "
                      "over the snapshots); target: the sparsity the strategy aimed at on the "
                      "layers it sparsifies (`sparsetopo run show NAME` shows both per snapshot)",
                      style="dim", highlight=False)
        if any(row["status"] == "interrupted" for row in rows):
            from sparsetopo.graphstore.liveness import RESUME_HINT

            err_console.print(f"interrupted: {RESUME_HINT}", highlight=False)


@run_app.command("show")
@friendly_errors
def show(
    name: Annotated[str, typer.Argument(help="Run name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show a run: its layers (kind, gate, attention/MLP role, groups, shape, tied_to) and its
    snapshots (step, edges, sparsity, turnover, metrics).

    **Example**: `sparsetopo run show zhang-prune`
    """
    with open_store() as store:
        info = store.run_info(name)
    if as_json:
        print_json(info)
        return
    run = info["run"]
    console.print(f"[bold]{name}[/]  task={run.get('task') or '-'}  strategy="
                  f"{run.get('strategy') or '-'}  model={run.get('model') or '-'}  "
                  f"status={run.get('status')}", highlight=False)
    config = _config(run)
    target, layers = target_of(config)
    if target is not None:
        console.print(f"sparsity target {target:g} on {layers or 'the sparsified layers'} "
                      "(column target_sparsity); graph_sparsity counts every recorded layer",
                      highlight=False)
    params = _flatten(config)
    if params:
        print_table([{"hyperparameter": k, "value": v} for k, v in params.items()],
                    ["hyperparameter", "value"], title="hyperparameters")
    # role (q/k/v/o, gate/up/down, expand) and tied_to only for models that have them
    layer_cols = ["name", "kind", "gate", "role", "src_group", "dst_group", "n_in", "n_out",
                  "tied_to"]
    layer_cols = [c for c in layer_cols if c not in ("role", "tied_to")
                  or any(layer.get(c) for layer in info["layers"])]
    print_table(info["layers"], layer_cols, title="layers")
    snaps = [{("graph_sparsity" if k == "sparsity" else
               "target_sparsity" if k == "strategy_sparsity" else k): v for k, v in s.items()}
             for s in info["snapshots"]]
    base = ["step", "seq", "epoch", "n_edges", "graph_sparsity", "target_sparsity", "births",
            "deaths", "sign_flips"]
    base = [c for c in base if c != "target_sparsity" or any(c in s for s in snaps)]
    skip = set(base) | {"run_id", "complete", "created_at", "source"}
    extra = sorted({k for s in snaps for k in s if k not in skip and not k.startswith("analysis_")})
    print_table(snaps, base + extra, title="snapshots")
    if run.get("status") == "interrupted":
        from sparsetopo.graphstore.liveness import RESUME_HINT

        err_console.print(f"interrupted: {RESUME_HINT.replace('NAME', name)}", highlight=False)


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as ``a.b = value`` pairs (lists of numbers or names joined)."""
    out: dict[str, Any] = {}
    for key, value in sorted(config.items()):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, (list, tuple)):
            out[name] = ", ".join(str(v) for v in value)
        elif value is not None:
            out[name] = value if isinstance(value, str) else json.dumps(value)
    return out


@run_app.command("delete")
@friendly_errors
def delete(
    name: Annotated[str, typer.Argument(help="Run name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a run and everything it owns (batched; safe to re-run if interrupted).

    **Example**: `sparsetopo run delete old-run --yes`
    """
    status = err_console.status(f"deleting {name}")

    def ask() -> None:  # called once the run is known to exist: an unknown name fails first
        if not yes:
            typer.confirm(f"Delete run {name!r} and all its snapshots?", abort=True)
        status.start()

    try:
        with open_store() as store:
            store.delete(name, progress=lambda what: status.update(f"deleting {what}"),
                         confirm=ask)
    finally:
        status.stop()
    console.print(f"deleted run {name}")


@friendly_errors
def export(
    run: Annotated[str, typer.Argument(help="Run name.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file (csv) or directory (npz).")],
    step: Annotated[int | None, typer.Option(help="Step to export (default: the last).")] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="npz (weight_l{k}.npz per layer) or csv.")] = ExportFormat.npz,  # type: ignore[valid-type, attr-defined]
    layer: Annotated[str | None, typer.Option(help="csv: which layer (needed when the run has several).")] = None,
) -> None:
    """Export one snapshot's exact weights to npz or CSV (the formats `ingest` reads).

    **Example**: `sparsetopo export zhang-prune --step 200 -f csv -o w200.csv`
    """
    from sparsetopo.ingest.importers import write_csv_snapshot, write_npz_snapshot

    with open_store() as store:
        arch = store.architecture(run)
        snap = store.edges(run, step=step)
    try:
        if fmt.value == "csv":  # type: ignore[attr-defined]
            written = [write_csv_snapshot(snap, arch, out, layer=layer)]
        else:
            written = write_npz_snapshot(snap, arch, out)
    except OSError as exc:
        raise InputError(
            f"cannot write {out}: {exc.strerror or exc}; choose a writable --out path"
        ) from exc
    console.print(f"exported step {snap.step} of {run} ({snap.n_edges} edges):")
    for path in written:
        console.print(f"  {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add runs, run show|delete and export to ``app``."""
    app.command("runs")(runs)
    app.add_typer(run_app, name="run")
    app.command("export")(export)


#: The commands of this module; sparsetopo.cli.main merges them into the root app (add_typer).
app = typer.Typer()
register(app)
