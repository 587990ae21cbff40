"""The analyze path: a resolved run -> its plan -> tasks -> an executor -> the write-back.

:meth:`Store.analyze <sparsetopo.api.store.Store.analyze>` and
:meth:`Store.compare <sparsetopo.api.store.Store.compare>` resolve their runs once
(:func:`~sparsetopo.api.lookup.resolve_run`) and call :func:`analyze_run` /
:func:`compare_runs` here. The plan, tasks and results are the typed objects of
:mod:`sparsetopo.api.plan`; the executors of :mod:`sparsetopo.api.executors` run the tasks;
:func:`analysis_rows` turns the results into the rows ``graphstore.results`` writes in its own
transactions. Progress goes to a callback (:func:`~sparsetopo.api.notebook.progress_callback`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from neo4j import Driver

from sparsetopo.analysis.zscores import warn_few_null_samples
from sparsetopo.api.executors import Executor, make_executor
from sparsetopo.api.lookup import ResolvedRun
from sparsetopo.api.notebook import progress_callback, report_html
from sparsetopo.api.plan import (
    AnalysisOptions,
    AnalysisPlan,
    PairResult,
    PairTask,
    PartResult,
    ProgressCallback,
    ProgressEvent,
    SnapshotRef,
    SnapshotResult,
    SnapshotTask,
    plan_analysis,
)
from sparsetopo.errors import InputError
from sparsetopo.graphstore import results as res
from sparsetopo.graphstore.reader import snapshots_of
from sparsetopo.server.config import ConnectionInfo

__all__ = [
    "NNSTD_MODES",
    "AnalysisReport",
    "aligned",
    "analysis_rows",
    "analyze_run",
    "check_options",
    "compare_runs",
    "pairs_needed",
    "run_tasks",
]

NNSTD_MODES = ("chain", "all")
#: Columns of ``Store.compare``.
_COMPARE_COLUMNS = ["step_a", "step_b", "seq_a", "seq_b", "nnstd", "jaccard", "shared",
                    "only_a", "only_b", "sign_flips"]


@dataclass
class AnalysisReport:
    """What :meth:`Store.analyze <sparsetopo.api.store.Store.analyze>` did.

    Attributes
    ----------
    run : str
        The run analysed.
    snapshots : int
        Complete snapshots in the run.
    computed : list of int
        Sequence numbers of the snapshots whose statistics were computed.
    pairs : int
        NNSTD / overlap snapshot pairs computed.
    compared : dict of str to int
        Other run -> aligned snapshot pairs compared with it.
    seconds : float
        Wall time.
    """

    run: str
    snapshots: int
    computed: list[int] = field(default_factory=list)
    pairs: int = 0
    compared: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        """Snapshots that were up to date."""
        return self.snapshots - len(self.computed)

    def _repr_html_(self) -> str:
        return report_html(self)


def check_options(n_null: int, motifs: bool, nnstd: bool | str) -> str | None:
    """Check ``analyze``'s options before any work; return the NNSTD mode (None: no NNSTD)."""
    if n_null < 1:
        raise InputError(f"n_null must be >= 1 (got {n_null})")
    if motifs:
        warn_few_null_samples(n_null)
    mode = "chain" if nnstd is True else (nnstd or None)
    if mode is not None and mode not in NNSTD_MODES:
        raise InputError(f"nnstd must be True, False, 'chain' or 'all' (got {nnstd!r})")
    return mode


def analysis_rows(
    run_id: int, seqs: Sequence[int], plan: AnalysisPlan, results: Sequence[Any]
) -> dict[str, list[dict[str, Any]]]:
    """Turn the results of one ``analyze`` into the rows ``graphstore.results`` writes.

    Parameters
    ----------
    run_id : int
        The run.
    seqs : sequence of int
        Its complete snapshots, in order (the first and the previous of each snapshot).
    plan : AnalysisPlan
        The plan the results were computed with.
    results : sequence of SnapshotResult and PairResult
        What the tasks returned.

    Returns
    -------
    dict
        ``"snapshots"`` (seq, props, motifs), ``"parts"`` (seq, part, kind, layers, props, one
        per (seq, part)), ``"nnstd"`` and ``"overlap"`` (a_run, a_seq, b_run, b_seq, props).
    """
    first = seqs[0]
    prev_of = dict(zip(seqs[1:], seqs, strict=False))
    rows: dict[int, dict[str, Any]] = {}
    parts: dict[tuple[int, str], dict[str, Any]] = {}

    def row(seq: int) -> dict[str, Any]:
        return rows.setdefault(seq, {"seq": seq, "props": {}, "motifs": None})

    def part_row(seq: int, pr: PartResult) -> dict[str, Any]:
        return parts.setdefault((seq, pr.part), {"seq": seq, "part": pr.part, "kind": pr.kind,
                                                 "layers": list(pr.layers), "props": {}})

    def layer_row(seq: int, layer: str) -> dict[str, Any]:
        return part_row(seq, PartResult(f"layer:{layer}", "layer", (layer,)))

    primary = plan.primary_part
    alias: dict[str, str | None] = {}
    if plan.legacy and primary.kind == "recurrent":
        alias = {"input": primary.input_layer, "recurrent": primary.layers[0],
                 "output": primary.readout_layer}
    nnstd_rows: list[dict[str, Any]] = []
    overlap_rows: list[dict[str, Any]] = []
    for r in results:
        if isinstance(r, SnapshotResult):
            target = row(r.seq)
            target["props"].update(r.props)
            target["props"]["analysis_primary"] = plan.primary
            target["motifs"] = r.motifs
            for pr in r.parts:
                part_row(r.seq, pr)["props"].update(pr.props)
            continue
        a, b, _, _ = r.key
        base = {"a_run": run_id, "a_seq": a, "b_run": run_id, "b_seq": b}
        if r.nnstd is not None:
            nnstd_rows.append({**base, "props": r.nnstd})
            per = dict(zip(r.nnstd["layers"], r.nnstd["per_layer"], strict=False))
            for label, layer in alias.items():  # a vanilla RNN's parts named by role
                if label in per and layer:
                    per[layer] = per.pop(label)
            for key, name in (("nnstd_to_first", a == first), ("nnstd_to_prev", prev_of.get(b) == a)):
                if not name:
                    continue
                row(b)["props"].update({key: r.nnstd["distance"], "analysis_nnstd": "v1"})
                for layer, value in per.items():
                    if layer in plan.shapes:
                        layer_row(b, layer)["props"][key] = value
        if r.overlap is not None:
            overlap_rows.append({**base, "props": r.overlap})
            if prev_of.get(b) == a:
                o = r.overlap
                row(b)["props"].update(overlap_prev_jaccard=o["jaccard"],
                                       overlap_prev_shared=o["shared"], analysis_overlap="v1")
                for layer, lo in r.layer_overlap.items():
                    if layer in plan.shapes:
                        layer_row(b, layer)["props"].update(
                            overlap_prev_jaccard=lo["jaccard"], overlap_prev_shared=lo["shared"],
                            overlap_prev_born=lo["only_b"], overlap_prev_died=lo["only_a"],
                            overlap_prev_sign_flips=lo["sign_flips"])
    if nnstd_rows:
        row(first)["props"].update(nnstd_to_first=0.0)
    return {"snapshots": list(rows.values()), "parts": list(parts.values()),
            "nnstd": nnstd_rows, "overlap": overlap_rows}


def pairs_needed(
    seqs: Sequence[int],
    props: Mapping[int, Mapping[str, Any]],
    mode: str | None,
    overlap: bool,
    force: bool,
    stored_nnstd: Iterable[tuple[int, int]] = (),
) -> list[tuple[int, int, bool, bool]]:
    """(seq_a, seq_b, do_nnstd, do_overlap) pairs still to compute.

    ``stored_nnstd`` are the (seq_a, seq_b) pairs whose NNSTD is stored (mode "all" skips them
    unless ``force``).

    Examples
    --------
    >>> pairs_needed([0, 1, 2], {0: {}, 1: {}, 2: {"analysis_overlap": "v1"}}, "chain", True,
    ...              False)
    [(0, 1, True, True), (0, 2, True, False), (1, 2, True, False)]
    """
    want: dict[tuple[int, int], list[bool]] = {}
    first = seqs[0]
    for prev, seq in itertools.pairwise(seqs):
        p = props[seq]
        if mode is not None and (force or "analysis_nnstd" not in p):
            want.setdefault((first, seq), [False, False])[0] = True
            want.setdefault((prev, seq), [False, False])[0] = True
        if overlap and (force or "analysis_overlap" not in p):
            want.setdefault((prev, seq), [False, False])[1] = True
    if mode == "all":
        stored = set() if force else set(stored_nnstd)
        for i, a in enumerate(seqs):
            for b in seqs[i + 1:]:
                if (a, b) not in stored:
                    want.setdefault((a, b), [False, False])[0] = True
    return [(a, b, f[0], f[1]) for (a, b), f in sorted(want.items())]


def run_tasks(
    tasks: Sequence[SnapshotTask | PairTask],
    ex: Executor,
    driver: Driver,
    database: str | None,
    info: ConnectionInfo | None,
    progress: bool | ProgressCallback | None,
    label: str,
) -> list[Any]:
    """Run the tasks on ``ex`` and return their results.

    A start event and one event per finished task go to the callback ``progress`` means
    (:func:`~sparsetopo.api.notebook.progress_callback`).
    """
    report = progress_callback(progress)
    if report is None or not tasks:
        return ex.run(tasks, driver, database, info)
    total = len(tasks)
    report(ProgressEvent(label, 0, total))
    done = 0

    def advance(_result: Any) -> None:
        nonlocal done
        done += 1
        report(ProgressEvent(label, done, total))

    return ex.run(tasks, driver, database, info, on_done=advance)


def analyze_run(
    driver: Driver,
    database: str | None,
    info: ConnectionInfo | None,
    run: ResolvedRun,
    *,
    mode: str | None,
    motifs: bool = True,
    balance: bool = True,
    overlap: bool = True,
    null: str | None = None,
    n_null: int = 100,
    compare: Sequence[ResolvedRun] = (),
    force: bool = False,
    workers: int | None = None,
    progress: bool | ProgressCallback = False,
    seed: int = 0,
    layer: str | None = None,
    executor: Any = None,
    scheduler: str | None = None,
) -> AnalysisReport:
    """Analyse every complete snapshot of ``run`` and write the results back.

    The options are those of :meth:`Store.analyze <sparsetopo.api.store.Store.analyze>`
    (checked by :func:`check_options`, which gives ``mode``); ``compare`` are the other runs,
    resolved. Only what is missing is computed unless ``force``.
    """
    started = time.perf_counter()
    plan = plan_analysis(run.architecture, layer)
    options = AnalysisOptions(motifs=motifs, balance=balance, null=null, n_null=n_null, seed=seed)
    snaps = snapshots_of(driver, run.run_id, database)
    report = AnalysisReport(run.name, len(snaps))
    if not snaps:
        return report
    seqs = [int(s["seq"]) for s in snaps]
    props_by_seq = res.without_unbacked_markers(driver, run.run_id,
                                                {int(s["seq"]): s for s in snaps}, database)
    spec = options.motif_spec(plan)

    tasks: list[SnapshotTask | PairTask] = []
    for seq in seqs:
        p = props_by_seq[seq]
        need_b = balance and (force or p.get("analysis_balance") != plan.balance_marker)
        need_m = motifs and (force or p.get("analysis_motifs") != spec)
        if need_b or need_m:
            tasks.append(SnapshotTask(plan, options.only(need_m, need_b), seq,
                                      SnapshotRef(run.name, seq)))
    stored: list[tuple[int, int]] = []
    if mode == "all" and not force:
        stored = [(r["seq_a"], r["seq_b"])
                  for r in res.read_pairs(driver, "NNSTD", run.run_id, run.run_id, database)]
    for key in pairs_needed(seqs, props_by_seq, mode, overlap, force, stored):
        tasks.append(PairTask(plan, key, SnapshotRef(run.name, key[0]),
                              SnapshotRef(run.name, key[1]), key[2], key[3]))
    ex = make_executor(executor, workers, scheduler)
    try:
        n_snap = sum(isinstance(t, SnapshotTask) for t in tasks)
        label = f"analyze {run.name} ({n_snap} snapshots + {len(tasks) - n_snap} NNSTD/overlap pairs)"
        results = run_tasks(tasks, ex, driver, database, info, progress, label)
        res.write_analysis(driver, run.run_id, analysis_rows(run.run_id, seqs, plan, results),
                           database)
        report.computed = sorted(r.seq for r in results if isinstance(r, SnapshotResult))
        report.pairs = sum(1 for r in results if isinstance(r, PairResult))
        for other in compare:
            report.compared[other.name] = len(compare_runs(
                driver, database, info, run, other, write=True, progress=progress, layer=layer,
                executor=ex))
    finally:
        if ex is not executor:
            ex.close()
    report.seconds = time.perf_counter() - started
    return report


def aligned(driver: Driver, a: ResolvedRun, b: ResolvedRun,
            database: str | None = None) -> list[tuple[int, int, int, int]]:
    """Pair up the complete snapshots of two runs.

    Returns ``(seq_a, step_a, seq_b, step_b)``: equal steps when the runs share any step, else
    by position.
    """
    sa = [(int(s["seq"]), int(s["step"])) for s in snapshots_of(driver, a.run_id, database)]
    sb = [(int(s["seq"]), int(s["step"])) for s in snapshots_of(driver, b.run_id, database)]
    by_step_b = {step: seq for seq, step in sb}
    common = [(qa, st, by_step_b[st], st) for qa, st in sa if st in by_step_b]
    if common:
        return common
    return [(qa, ta, qb, tb) for (qa, ta), (qb, tb) in zip(sa, sb, strict=False)]


def compare_runs(
    driver: Driver,
    database: str | None,
    info: ConnectionInfo | None,
    a: ResolvedRun,
    b: ResolvedRun,
    *,
    write: bool = True,
    workers: int | None = None,
    progress: bool | ProgressCallback = False,
    layer: str | None = None,
    executor: Any = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Compute NNSTD and overlap of the :func:`aligned` snapshots of two runs.

    Options as in :meth:`Store.compare <sparsetopo.api.store.Store.compare>`; the results are
    written back when ``write``.
    """
    if a.architecture != b.architecture:
        raise InputError(
            f"runs {a.name!r} and {b.name!r} have different architectures; NNSTD and overlap "
            "compare networks of the same shape"
        )
    plan = plan_analysis(a.architecture, layer)
    tasks: list[SnapshotTask | PairTask] = [
        PairTask(plan, (qa, qb, ta, tb), SnapshotRef(a.name, qa), SnapshotRef(b.name, qb))
        for qa, ta, qb, tb in aligned(driver, a, b, database)
    ]
    ex = make_executor(executor, workers, scheduler)
    try:
        results = run_tasks(tasks, ex, driver, database, info, progress,
                            f"compare {a.name} {b.name}")
    finally:
        if ex is not executor:
            ex.close()
    results.sort(key=lambda r: r.key)
    rows = []
    for r in results:
        qa, qb, ta, tb = r.key
        rows.append({"step_a": ta, "step_b": tb, "seq_a": qa, "seq_b": qb,
                     "nnstd": r.nnstd["distance"], **r.overlap})
    if write and results:
        res.write_comparison(driver, a.run_id, b.run_id, [
            {"key": r.key, "nnstd": r.nnstd, "overlap": r.overlap} for r in results], database)
    return pd.DataFrame(rows, columns=_COMPARE_COLUMNS)
