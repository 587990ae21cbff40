"""`sparsetopo reproduce`: re-run the four papers' core experiments and report a verdict per claim."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Any

import typer

from sparsetopo.cli.common import console, err_console, friendly_errors, print_table


class Device(str, Enum):
    """Where the models train (``--device``)."""

    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


@friendly_errors
def reproduce_cmd(
    paper: str = typer.Argument(
        ..., help="zhang2023, liu2020, zahn2024, mackey2024 or all."),
    quick: bool = typer.Option(
        False, "--quick", help="Scaled down: each paper at most about 10 minutes on 2 CPU cores "
        "(the default)."),
    full: bool = typer.Option(
        False, "--full", help="The papers' sizes and seed counts (meant for a GPU machine); the "
        "estimated time is printed before starting."),
    seeds: int | None = typer.Option(
        None, "--seeds", help="Seeds per condition (default: the paper's for the mode)."),
    out: Path = typer.Option(
        Path("reproductions"), "--out", help="Output folder (report.html, report.md, "
        "claims.json; one sub-folder per paper with `all`)."),
    prefix: str = typer.Option(
        "repro", "--run-prefix", help="Run names are PREFIX-PAPER-CONDITION-sSEED."),
    force: bool = typer.Option(
        False, "--force", help="Retrain runs that are already complete with the same config."),
    device: Device = typer.Option(
        Device.auto, "--device", help="Where the models train: auto (CUDA when available), "
        "cpu or cuda. Graph snapshots and analysis stay on the CPU."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Folder with the real datasets (MNIST IDX files, e.g. "
        "train-images-idx3-ubyte): --full uses them, else built-in substitutes (the report "
        "says which)."),
) -> None:
    """Reproduce a paper's claims: train its runs (stored in Neo4j), analyse, and report.

    Every run is an ordinary stored run named PREFIX-PAPER-CONDITION-sSEED; runs already
    complete with the same configuration are reused unless --force. The report (DIR/report.html,
    self-contained; DIR/report.md; DIR/claims.json) has one row per claim: the paper's figure,
    ours with its spread over seeds, the test and the verdict (holds / does not hold /
    inconclusive), one figure per claim and the queries to re-query it.

    Examples:

      sparsetopo reproduce liu2020 --quick --out repro/liu

      sparsetopo reproduce all --quick --seeds 3

      sparsetopo reproduce zhang2023 --full --out repro-full

      sparsetopo reproduce liu2020 --full --device cuda --data-dir ~/data/mnist
    """
    from sparsetopo.errors import InputError
    from sparsetopo.reproduce import estimate_seconds, papers_of, plan, reproduce
    from sparsetopo.reproduce.runner import ProgressEvent

    if quick and full:
        raise InputError("choose one of --quick and --full")
    mode = "full" if full else "quick"
    from sparsetopo.training.loop import resolve_device

    dev = resolve_device(device.value).type  # refuses cuda without a CUDA device
    if data_dir is not None and not data_dir.is_dir():
        raise InputError(f"--data-dir {data_dir}: no such folder; give the folder that holds "
                         "the MNIST IDX files")
    data = str(data_dir) if data_dir is not None else None
    plans = plan(paper, mode, seeds, data)  # validates paper, mode and seeds before any work
    n_runs = sum(len(v) for v in plans.values())
    estimate = estimate_seconds(paper, mode, seeds, dev, data)
    where = ("on the CUDA device found (a rough figure)" if dev == "cuda" else
             "on the CPU of this machine (2 cores)")
    err_console.print(f"reproducing {', '.join(papers_of(paper))} ({mode}): {n_runs} runs, "
                      f"estimated {_duration(estimate)} {where}")
    if full:
        from sparsetopo.reproduce import get_paper

        for name in papers_of(paper):
            note = get_paper(name).data_note(mode, data)
            if note:
                err_console.print(f"{name}: {note}")
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                  console=err_console) as bar:
        tid = bar.add_task("loading torch and connecting", total=max(estimate, 1.0))

        def show(e: ProgressEvent) -> None:
            what = {"start": "preparing data and model",
                    "train": f"epoch {e.epoch}/{e.epochs}", "analyze": "analysing",
                    "skip": "complete, reused", "done": "done", "extra": ""}[e.kind]
            label = f"[{e.index}/{e.n_runs}] {e.run} {what}".rstrip()
            bar.update(tid, completed=e.done, total=max(e.total, 1.0), description=label)

        reports = reproduce(paper, mode=mode, seeds=seeds, out=out, prefix=prefix,
                            force=force, progress=show, device=dev, data_dir=data)
        bar.update(tid, completed=max(estimate, 1.0), description="finished")
    rows: list[dict[str, Any]] = []
    for rep in reports:
        for c in rep.claims:
            rows.append({"claim": c.id, "verdict": c.verdict.label})
    print_table(rows, ["claim", "verdict"], title="claims (details in the reports)")
    for rep in reports:
        target = out / rep.paper if len(reports) > 1 else out
        console.print(f"{rep.paper}: {_duration(rep.seconds)}, report {target / 'report.html'}")
    console.print(f"done in {_duration(time.perf_counter() - started)}")


def register(app: typer.Typer) -> None:
    app.command("reproduce")(reproduce_cmd)


#: The commands of this module; sparsetopo.cli.main merges them into the root app (add_typer).
app = typer.Typer()
register(app)
