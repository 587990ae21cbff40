"""Reproduce the four papers: train their core experiments as ordinary stored runs, analyse
them, and write a report with a verdict per claim (``sparsetopo reproduce``).

>>> from sparsetopo.reproduce import reproduce                       # doctest: +SKIP
>>> reports = reproduce("liu2020", mode="quick", out="repro-out")    # doctest: +SKIP
>>> reports[0].claims[0].verdict.label                               # doctest: +SKIP
'holds'

One module per paper (:mod:`~sparsetopo.reproduce.zhang2023`, ``liu2020``, ``zahn2024``,
``mackey2024``), the verdict logic (:mod:`~sparsetopo.reproduce.verdict`), the report
(:mod:`~sparsetopo.reproduce.report`) and the shared runner (:mod:`~sparsetopo.reproduce.runner`).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from sparsetopo.errors import InputError
from sparsetopo.reproduce.base import Context, Paper, check_mode
from sparsetopo.reproduce.report import PaperReport, write_report
from sparsetopo.reproduce.runner import ProgressFn, Runner, RunSpec

_log = logging.getLogger(__name__)

PAPER_NAMES = ("zhang2023", "liu2020", "zahn2024", "mackey2024")


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return float("nan")


def get_paper(name: str) -> Paper:
    """The paper module's :class:`~sparsetopo.reproduce.base.Paper` object."""
    if name == "zhang2023":
        from sparsetopo.reproduce.zhang2023 import Zhang2023

        return Zhang2023()
    if name == "liu2020":
        from sparsetopo.reproduce.liu2020 import Liu2020

        return Liu2020()
    if name == "zahn2024":
        from sparsetopo.reproduce.zahn2024 import Zahn2024

        return Zahn2024()
    if name == "mackey2024":
        from sparsetopo.reproduce.mackey2024 import Mackey2024

        return Mackey2024()
    raise InputError(f"unknown paper {name!r}; use one of {', '.join(PAPER_NAMES)} or all")


def papers_of(paper: str) -> list[str]:
    """``all`` -> every paper, else ``[paper]`` (validated)."""
    if paper == "all":
        return list(PAPER_NAMES)
    get_paper(paper)
    return [paper]


def plan(paper: str, mode: str = "quick", seeds: int | None = None,
         data_dir: str | Path | None = None) -> dict[str, list[RunSpec]]:
    """The runs each paper needs, without training anything.

    Parameters
    ----------
    paper : str
        A paper name or ``all``.
    mode : {"tiny", "quick", "full"}
        Sizes (``tiny`` is for tests).
    seeds : int, optional
        Seeds per condition (default: the paper's for the mode).
    data_dir : str or pathlib.Path, optional
        A folder with the papers' real datasets (MNIST IDX files); used in full mode.

    Returns
    -------
    dict of str to list of RunSpec
    """
    check_mode(mode)
    if seeds is not None and seeds < 1:
        raise InputError(f"--seeds must be >= 1 (got {seeds})")
    out = {}
    for name in papers_of(paper):
        p = get_paper(name)
        n = seeds if seeds is not None else p.default_seeds[mode]
        out[name] = p.runs(mode, list(range(n)), str(data_dir) if data_dir else None)
    return out


#: Rough speed-up of the full-mode sizes on a CUDA GPU over this repository's 2-core CPU figures.
GPU_SPEEDUP = 25.0


def estimate_seconds(paper: str, mode: str = "quick", seeds: int | None = None,
                     device: str = "cpu", data_dir: str | Path | None = None) -> float:
    """Estimated wall time of a reproduction (sum of the runs' estimates plus extra work).

    The run estimates are CPU figures of this machine; on ``cuda`` the training part is divided
    by :data:`GPU_SPEEDUP` (a rough figure: graph work stays on the CPU).
    """
    total = 0.0
    speed = GPU_SPEEDUP if device == "cuda" else 1.0
    for name, specs in plan(paper, mode, seeds, data_dir).items():
        p = get_paper(name)
        n = seeds if seeds is not None else p.default_seeds[mode]
        total += sum(s.est_seconds for s in specs) / speed + p.extra_seconds(mode, n)
    return total


def reproduce(
    paper: str,
    mode: str = "quick",
    seeds: int | None = None,
    out: str | Path = "reproductions",
    prefix: str = "repro",
    force: bool = False,
    progress: ProgressFn | None = None,
    store: Any = None,
    device: str = "auto",
    data_dir: str | Path | None = None,
) -> list[PaperReport]:
    """Train, store, analyse and report one paper (or ``all``).

    Parameters
    ----------
    paper : str
        ``zhang2023``, ``liu2020``, ``zahn2024``, ``mackey2024`` or ``all``.
    mode : {"tiny", "quick", "full"}
        ``quick``: scaled down for a 2-core machine; ``full``: the papers' sizes (GPU);
        ``tiny``: seconds, for tests.
    seeds : int, optional
        Seeds per condition.
    out : str or pathlib.Path
        Output directory; with ``all`` every paper writes into ``out/<paper>/``.
    prefix : str
        Run-name prefix: runs are ``<prefix>-<paper>-<condition>-s<seed>``.
    force : bool
        Retrain runs that are already complete with the same configuration.
    progress : callable, optional
        Receives :class:`~sparsetopo.reproduce.runner.ProgressEvent` objects.
    store : sparsetopo.api.store.Store, optional
        Default: ``Store.connect()`` (closed at the end).
    device : {"auto", "cpu", "cuda"}
        Where the models train (graph snapshots and analysis stay on the CPU).
    data_dir : str or pathlib.Path, optional
        Folder with the real datasets (MNIST IDX files), used by full mode when present;
        otherwise the built-in substitutes are used and the report says so.

    Returns
    -------
    list of PaperReport
        One per paper; each also written to report.html, report.md and claims.json.

    Raises
    ------
    InputError
        For an unknown paper or mode, or seeds < 1 (checked before anything is trained).
    """
    from sparsetopo.training.loop import resolve_device

    dev = resolve_device(device).type  # a missing CUDA device is refused before any work
    data = str(data_dir) if data_dir else None
    if data is not None and not Path(data).is_dir():
        raise InputError(f"--data-dir {data}: no such folder; give the folder that holds the "
                         "MNIST IDX files")
    plans = plan(paper, mode, seeds, data)
    if not prefix or len(prefix) > 50 or not all(c.isalnum() or c in "-_." for c in prefix):
        raise InputError(f"--run-prefix {prefix!r}: use letters, digits, '-', '_' or '.', "
                         "e.g. repro")
    out = Path(out)
    own = store is None
    if own:
        from sparsetopo.api.store import Store

        store = Store.connect()
    total = estimate_seconds(paper, mode, seeds, dev, data)
    runner = Runner(store, prefix, force=force, progress=progress, total_seconds=total,
                    device=dev)
    runner.n_runs = sum(len(v) for v in plans.values())
    reports = []
    try:
        for name, specs in plans.items():
            p = get_paper(name)
            n = seeds if seeds is not None else p.default_seeds[mode]
            started = time.perf_counter()
            load_start = _load()
            outcomes = []
            for spec in specs:
                runner.index += 1
                outcomes.append(runner.run_one(spec))
            ctx = Context(store, runner, prefix, mode, list(range(n)), specs, data_dir=data)
            claims = p.claims(ctx)
            runner.extra(f"{name} report", p.extra_seconds(mode, n))
            runs = [{"name": o.name, "condition": o.spec.condition, "seed": o.spec.seed,
                     "trained": o.trained, "seconds": round(o.seconds, 1),
                     "key": o.spec.key()} for o in outcomes]
            runs += ctx.extra.get("derived_runs", [])
            seconds = time.perf_counter() - started
            notes = [f"Wall time {seconds / 60:.1f} min on {os.cpu_count()} CPU cores, "
                     f"{sum(o.trained for o in outcomes)} of {len(outcomes)} runs trained now; "
                     f"load average {load_start:.1f} at the start and {_load():.1f} at the end "
                     f"(1-minute figures; other processes share the machine); device {dev}.",
                     *ctx.extra.get("notes", [])]
            data_note = p.data_note(mode, data)
            if data_note:
                notes.append(data_note)
            rep = PaperReport(name, p.title, mode, n, claims, runs, seconds,
                              scale=p.scale(mode), notes=notes, sources=p.sources(),
                              not_covered=p.not_covered(mode))
            target = out / name if len(plans) > 1 else out
            write_report(rep, target)
            _log.info("%s: report written to %s", name, target)
            reports.append(rep)
    finally:
        if own:
            store.close()
    return reports


__all__ = ["GPU_SPEEDUP", "PAPER_NAMES", "estimate_seconds", "get_paper", "plan", "reproduce"]

