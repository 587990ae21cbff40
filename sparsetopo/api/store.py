"""The Python API a notebook imports: ``store = sparsetopo.connect()``.

>>> store = sparsetopo.connect()                          # doctest: +SKIP
>>> store.runs()                                          # doctest: +SKIP
>>> store.history("zhang-prune")["ffl_balance"]           # doctest: +SKIP
>>> g = store.snapshot("zhang-prune", step=200)           # doctest: +SKIP
>>> store.query("overlap", run="zhang-prune", step_a=100, step_b=200)  # doctest: +SKIP
>>> store.analyze("zhang-prune")                          # doctest: +SKIP

Every table comes back as a pandas DataFrame; graphs come back as the analysis layer's
:class:`~sparsetopo.analysis.SignedGraph` (recurrent layer) or
:class:`~sparsetopo.analysis.LayeredGraph` (feed-forward stack).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from neo4j import Driver
from neo4j.graph import Node, Relationship
from neo4j.graph import Path as GraphPath

from sparsetopo.analysis import LayeredGraph, SignedGraph
from sparsetopo.api.pipeline import (
    AnalysisOptions,
    Edges,
    GraphPlan,
    build_graph,
    dispatch,
    edges_of,
    plan_graph,
    run_parallel,
)
from sparsetopo.errors import InputError
from sparsetopo.graphstore import results as res
from sparsetopo.graphstore.bulkread import read_snapshots_edges
from sparsetopo.graphstore.connection import open_driver, resolve_connection
from sparsetopo.graphstore.reader import list_snapshots, read_snapshot
from sparsetopo.graphstore.runs import architecture_from_json, list_runs, require_run
from sparsetopo.queries.library import get_query
from sparsetopo.server.config import ConnectionInfo
from sparsetopo.topology import Architecture, GraphSnapshot

#: First columns of a history table (the rest follow alphabetically).
_HISTORY_FIRST = ("seq", "epoch", "n_edges", "sparsity", "births", "deaths", "sign_flips")
_HISTORY_DROP = ("run_id", "complete")
NNSTD_MODES = ("chain", "all")


def _python(value: Any) -> Any:
    """Driver values -> plain Python (nodes and relationships become property dicts)."""
    if isinstance(value, (Node, Relationship)):
        out = dict(value)
        if isinstance(value, Relationship):
            out["_type"] = value.type
        else:
            out["_labels"] = sorted(value.labels)
        return out
    if isinstance(value, GraphPath):
        return [_python(n) for n in value.nodes]
    if isinstance(value, list):
        return [_python(v) for v in value]
    if isinstance(value, dict):
        return {k: _python(v) for k, v in value.items()}
    if hasattr(value, "to_native"):
        return value.to_native()
    return value


@dataclass
class AnalysisReport:
    """What :meth:`Store.analyze` did."""

    run: str
    snapshots: int  # complete snapshots in the run
    computed: list[int] = field(default_factory=list)  # seqs whose statistics were computed
    pairs: int = 0  # NNSTD / overlap pairs computed
    compared: dict[str, int] = field(default_factory=dict)  # other run -> aligned pairs
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        return self.snapshots - len(self.computed)


class Store:
    """A connection to the graph store plus the query library and the analyses.

    Create it with :meth:`connect` (or ``sparsetopo.connect()``); use it as a context manager or
    call :meth:`close` when done.
    """

    def __init__(
        self,
        driver: Driver,
        database: str | None = None,
        info: ConnectionInfo | None = None,
        owns_driver: bool = False,
    ) -> None:
        self.driver = driver
        self.database = database
        self.info = info
        self._owns_driver = owns_driver

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def connect(
        cls,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        start: bool = True,
    ) -> Store:
        """Open a store. With ``uri`` (and ``password``) that server; otherwise NEO4J_URI /
        NEO4J_USER / NEO4J_PASSWORD / NEO4J_DATABASE when set, else the managed local server
        (started first when ``start``)."""
        if uri is not None:
            if password is None:
                raise InputError(f"connect(uri={uri!r}) needs password=...; or set NEO4J_PASSWORD")
            info = ConnectionInfo(uri=uri, user=user or "neo4j", password=password,
                                  database=database, managed=False)
        else:
            info = resolve_connection(start=start)
        driver, info = open_driver(info)
        return cls(driver, database or info.database, info, owns_driver=True)

    def close(self) -> None:
        if self._owns_driver:
            self.driver.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.info.uri if self.info else "driver"
        return f"Store({where}, database={self.database!r})"

    # ------------------------------------------------------------------ plain queries
    def cypher(self, text: str, **params: Any) -> pd.DataFrame:
        """Run any Cypher statement with parameters; the records as a DataFrame (columns in the
        order of the RETURN clause; nodes and relationships as property dicts)."""
        if not isinstance(text, str) or not text.strip():
            raise InputError("the Cypher text is empty")
        records, _, keys = self.driver.execute_query(text, params, database_=self.database)
        rows = [[_python(r[k]) for k in keys] for r in records]
        return pd.DataFrame(rows, columns=list(keys))

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        """Run the library query ``name`` (``sparsetopo query --list``) with its parameters."""
        q = get_query(name)
        missing = q.missing(params)
        if missing:
            doc = "; ".join(f"{p}: {q.params[p]}" for p in missing)
            raise InputError(f"query {name!r} needs parameters {missing} ({doc})")
        unknown = sorted(set(params) - set(q.params))
        if unknown:
            raise InputError(
                f"query {name!r} has no parameters {unknown}; it takes {sorted(q.params) or 'none'}"
            )
        return self.cypher(q.text, **params)

    # ------------------------------------------------------------------ runs and histories
    def runs(self) -> pd.DataFrame:
        """Every run with its snapshot count, step and sparsity range."""
        rows = list_runs(self.driver, self.database)
        cols = ["name", "run_id", "created_at", "model", "task", "strategy", "status",
                "snapshots", "last_step", "min_sparsity", "max_sparsity"]
        return pd.DataFrame(rows, columns=cols)

    def architecture(self, run: str) -> Architecture:
        return architecture_from_json(require_run(self.driver, run, self.database)["architecture_json"])

    def layers(self, run: str) -> pd.DataFrame:
        return self.query("layers", run=run)

    def history(self, run: str, stats: Sequence[str] | None = None) -> pd.DataFrame:
        """Every stored property of every complete snapshot (metrics, sizes, turnover and
        analysis results), indexed by step. ``stats`` selects columns (validated)."""
        snaps = list_snapshots(self.driver, run, self.database)
        df = pd.DataFrame(snaps)
        if df.empty:
            return pd.DataFrame(index=pd.Index([], name="step"))
        df = df.drop(columns=[c for c in _HISTORY_DROP if c in df.columns])
        first = [c for c in _HISTORY_FIRST if c in df.columns]
        rest = sorted(c for c in df.columns if c not in first and c != "step")
        df = df.set_index("step")[first + rest]
        if stats is not None:
            unknown = [s for s in stats if s not in df.columns]
            if unknown:
                raise InputError(
                    f"run {run!r} stores no statistics {unknown}; stored: {', '.join(df.columns)}"
                )
            df = df[list(stats)]
        return df

    def stored_keys(self, run: str) -> list[str]:
        """Names of the properties stored on the run's snapshots."""
        run_id = require_run(self.driver, run, self.database)["run_id"]
        records, _, _ = self.driver.execute_query(
            "MATCH (s:Snapshot {run_id: $id}) UNWIND keys(s) AS k RETURN collect(DISTINCT k) AS ks",
            id=run_id, database_=self.database,
        )
        return sorted(records[0]["ks"])

    def statistic(self, run: str, key: str) -> pd.Series:
        """One stored statistic over the steps of a run (the ``history`` library query); ``key``
        must be a stored property name."""
        keys = self.stored_keys(run)
        if key not in keys:
            raise InputError(f"run {run!r} stores no statistic {key!r}; stored: {', '.join(keys)}")
        df = self.query("history", run=run, key=key)
        return pd.Series(df["value"].to_numpy(), index=pd.Index(df["step"], name="step"), name=key)

    def motifs(self, run: str) -> pd.DataFrame:
        """Stored motif counts and Z-scores: one row per (step, motif)."""
        run_id = require_run(self.driver, run, self.database)["run_id"]
        cols = ["seq", "step", "motif", "count", "null_mean", "null_sd", "z", "p", "null_model"]
        return pd.DataFrame(res.read_motifs(self.driver, run_id, self.database), columns=cols)

    def pairs(self, kind: str, run_a: str, run_b: str | None = None) -> pd.DataFrame:
        """Stored NNSTD or OVERLAP relationships from run_a's snapshots to run_b's (default the
        same run): one row per pair."""
        ida = require_run(self.driver, run_a, self.database)["run_id"]
        idb = require_run(self.driver, run_b or run_a, self.database)["run_id"]
        return pd.DataFrame(res.read_pairs(self.driver, kind.upper(), ida, idb, self.database))

    def nnstd_matrix(self, run: str, run_b: str | None = None) -> pd.DataFrame:
        """Stored NNSTD as a step x step matrix (NaN where not computed; symmetric within a run)."""
        df = self.pairs("NNSTD", run, run_b)
        if df.empty:
            return pd.DataFrame()
        m = df.pivot_table(index="step_a", columns="step_b", values="distance", aggfunc="first")
        if run_b is None or run_b == run:
            steps = sorted(set(m.index) | set(m.columns))
            m = m.reindex(index=steps, columns=steps)
            m = m.combine_first(m.T)
            for s in steps:
                m.loc[s, s] = 0.0
        return m

    # ------------------------------------------------------------------ snapshots
    def edges(self, run: str, step: int | None = None) -> GraphSnapshot:
        """The exact weights of one snapshot (the last one when step is None)."""
        return read_snapshot(self.driver, run, step=step, database=self.database)

    def snapshot(
        self, run: str, step: int | None = None, layer: str | None = None
    ) -> SignedGraph | LayeredGraph:
        """One snapshot as an analysis graph: the recurrent layer as a SignedGraph, or the
        feed-forward stack as a LayeredGraph (``layer`` picks one layer instead)."""
        plan = plan_graph(self.architecture(run), layer)
        return build_graph(plan, edges_of(self.edges(run, step).layers))

    # ------------------------------------------------------------------ analysis
    def analyze(
        self,
        run: str,
        motifs: bool = True,
        balance: bool = True,
        nnstd: bool | str = True,
        overlap: bool = True,
        null: str | None = None,
        n_null: int = 100,
        compare: Iterable[str] = (),
        force: bool = False,
        workers: int | None = None,
        progress: bool = False,
        seed: int = 0,
        layer: str | None = None,
    ) -> AnalysisReport:
        """Compute motif Z-scores, balance, NNSTD and edge overlap for every snapshot of ``run``
        and write them back (Snapshot properties, Motif nodes, NNSTD / OVERLAP relationships).

        Only what is missing is computed (a snapshot whose motifs were computed with another
        null model / n_null / seed counts as missing) unless ``force``; re-running replaces
        results instead of duplicating them. ``nnstd``: True or "chain" = each snapshot to the
        first and to the previous one; "all" = every pair. ``compare``: other runs with the
        same architecture; their aligned snapshots get NNSTD and OVERLAP relationships too.
        Work runs in up to ``workers`` processes (default 2)."""
        started = time.perf_counter()
        if n_null < 1:
            raise InputError(f"n_null must be >= 1 (got {n_null})")
        mode = "chain" if nnstd is True else (nnstd or None)
        if mode is not None and mode not in NNSTD_MODES:
            raise InputError(f"nnstd must be True, False, 'chain' or 'all' (got {nnstd!r})")
        info = require_run(self.driver, run, self.database)
        run_id = info["run_id"]
        plan = plan_graph(architecture_from_json(info["architecture_json"]), layer)
        options = AnalysisOptions(motifs=motifs, balance=balance, null=null, n_null=n_null,
                                  seed=seed)
        snaps = list_snapshots(self.driver, run, self.database)
        report = AnalysisReport(run, len(snaps))
        if not snaps:
            return report
        seqs = [int(s["seq"]) for s in snaps]
        props_by_seq = {int(s["seq"]): s for s in snaps}
        spec = options.motif_spec(plan)

        snap_tasks: list[tuple[Any, ...]] = []
        for seq in seqs:
            p = props_by_seq[seq]
            need_b = balance and (force or "analysis_balance" not in p)
            need_m = motifs and (force or p.get("analysis_motifs") != spec)
            if need_b or need_m:
                opts = AnalysisOptions(need_m, need_b, null, n_null, seed)
                snap_tasks.append((seq, opts))

        pair_keys = self._pairs_needed(run_id, seqs, props_by_seq, mode, overlap, force)
        needed = sorted({t[0] for t in snap_tasks} | {x for k in pair_keys for x in k[:2]})
        edges = {seq: edges_of(layers) for seq, layers in
                 read_snapshots_edges(self.driver, run, needed, self.database).items()}
        tasks: list[tuple[Any, ...]] = [
            ("snapshot", plan, opts, seq, edges[seq]) for seq, opts in snap_tasks
        ]
        tasks += [
            ("pair", plan, key, edges[key[0]], edges[key[1]], key[2], key[3]) for key in pair_keys
        ]
        results = self._run(tasks, workers, progress, f"analyze {run}")
        self._write_analysis(run_id, seqs, results)
        report.computed = sorted(r["seq"] for r in results if r["kind"] == "snapshot")
        report.pairs = sum(1 for r in results if r["kind"] == "pair")
        for other in compare:
            report.compared[other] = len(self.compare(run, other, write=True, workers=workers,
                                                      progress=progress, layer=layer))
        report.seconds = time.perf_counter() - started
        return report

    def _pairs_needed(
        self,
        run_id: int,
        seqs: list[int],
        props: Mapping[int, Mapping[str, Any]],
        mode: str | None,
        overlap: bool,
        force: bool,
    ) -> list[tuple[int, int, bool, bool]]:
        """(seq_a, seq_b, do_nnstd, do_overlap) pairs still to compute."""
        want: dict[tuple[int, int], list[bool]] = {}
        first = seqs[0]
        for prev, seq in zip(seqs, seqs[1:], strict=False):
            p = props[seq]
            if mode is not None and (force or "analysis_nnstd" not in p):
                want.setdefault((first, seq), [False, False])[0] = True
                want.setdefault((prev, seq), [False, False])[0] = True
            if overlap and (force or "analysis_overlap" not in p):
                want.setdefault((prev, seq), [False, False])[1] = True
        if mode == "all":
            stored = set()
            if not force:
                stored = {(r["seq_a"], r["seq_b"]) for r in
                          res.read_pairs(self.driver, "NNSTD", run_id, run_id, self.database)}
            for i, a in enumerate(seqs):
                for b in seqs[i + 1:]:
                    if (a, b) not in stored:
                        want.setdefault((a, b), [False, False])[0] = True
        return [(a, b, f[0], f[1]) for (a, b), f in sorted(want.items())]

    def _run(
        self, tasks: Sequence[tuple[Any, ...]], workers: int | None, progress: bool, label: str
    ) -> list[dict[str, Any]]:
        if not progress or not tasks:
            return run_parallel(dispatch, tasks, workers)
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=False) as bar:
            tid = bar.add_task(label, total=len(tasks))
            done: Callable[[dict[str, Any]], None] = lambda _r: bar.advance(tid)  # noqa: E731
            return run_parallel(dispatch, tasks, workers, on_done=done)

    def _write_analysis(self, run_id: int, seqs: list[int], results: list[dict[str, Any]]) -> None:
        first = seqs[0]
        prev_of = dict(zip(seqs[1:], seqs, strict=False))
        rows: dict[int, dict[str, Any]] = {}

        def row(seq: int) -> dict[str, Any]:
            return rows.setdefault(seq, {"seq": seq, "props": {}, "motifs": None})

        nnstd_rows: list[dict[str, Any]] = []
        overlap_rows: list[dict[str, Any]] = []
        for r in results:
            if r["kind"] == "snapshot":
                target = row(r["seq"])
                target["props"].update(r["props"])
                target["motifs"] = r["motifs"]
                continue
            a, b, _, _ = r["key"]
            base = {"a_run": run_id, "a_seq": a, "b_run": run_id, "b_seq": b}
            if "nnstd" in r:
                nnstd_rows.append({**base, "props": r["nnstd"]})
                if a == first:
                    row(b)["props"].update(nnstd_to_first=r["nnstd"]["distance"],
                                           analysis_nnstd="v1")
                if prev_of.get(b) == a:
                    row(b)["props"].update(nnstd_to_prev=r["nnstd"]["distance"],
                                           analysis_nnstd="v1")
            if "overlap" in r:
                overlap_rows.append({**base, "props": r["overlap"]})
                if prev_of.get(b) == a:
                    o = r["overlap"]
                    row(b)["props"].update(overlap_prev_jaccard=o["jaccard"],
                                           overlap_prev_shared=o["shared"],
                                           analysis_overlap="v1")
        if nnstd_rows and first not in rows:
            row(first)
        if nnstd_rows:
            row(first)["props"].update(nnstd_to_first=0.0)
        res.write_snapshot_results(self.driver, run_id, list(rows.values()), self.database)
        res.write_pair_results(self.driver, "NNSTD", nnstd_rows, self.database)
        res.write_pair_results(self.driver, "OVERLAP", overlap_rows, self.database)

    def aligned(self, run_a: str, run_b: str) -> list[tuple[int, int, int, int]]:
        """Aligned snapshot pairs of two runs as (seq_a, step_a, seq_b, step_b): equal steps when
        the runs share any, else by position."""
        sa = [(int(s["seq"]), int(s["step"])) for s in list_snapshots(self.driver, run_a, self.database)]
        sb = [(int(s["seq"]), int(s["step"])) for s in list_snapshots(self.driver, run_b, self.database)]
        by_step_b = {step: seq for seq, step in sb}
        common = [(qa, st, by_step_b[st], st) for qa, st in sa if st in by_step_b]
        if common:
            return common
        return [(qa, ta, qb, tb) for (qa, ta), (qb, tb) in zip(sa, sb, strict=False)]

    def compare(
        self,
        run_a: str,
        run_b: str,
        write: bool = True,
        workers: int | None = None,
        progress: bool = False,
        layer: str | None = None,
    ) -> pd.DataFrame:
        """NNSTD and edge overlap of the aligned snapshots of two runs with the same
        architecture (:meth:`aligned`); written back as NNSTD / OVERLAP relationships from
        run_a's snapshots to run_b's when ``write``."""
        ia = require_run(self.driver, run_a, self.database)
        ib = require_run(self.driver, run_b, self.database)
        arch_a = architecture_from_json(ia["architecture_json"])
        arch_b = architecture_from_json(ib["architecture_json"])
        if arch_a != arch_b:
            raise InputError(
                f"runs {run_a!r} and {run_b!r} have different architectures; NNSTD and overlap "
                "compare networks of the same shape"
            )
        plan: GraphPlan = plan_graph(arch_a, layer)
        pairs = self.aligned(run_a, run_b)
        cache_a: dict[int, Edges] = {}
        cache_b: dict[int, Edges] = {}
        tasks: list[tuple[Any, ...]] = []
        for qa, ta, qb, tb in pairs:
            if qa not in cache_a:
                cache_a[qa] = edges_of(read_snapshot(self.driver, run_a, seq=qa,
                                                     database=self.database).layers)
            if qb not in cache_b:
                cache_b[qb] = edges_of(read_snapshot(self.driver, run_b, seq=qb,
                                                     database=self.database).layers)
            tasks.append(("pair", plan, (qa, qb, ta, tb), cache_a[qa], cache_b[qb], True, True))
        results = self._run(tasks, workers, progress, f"compare {run_a} {run_b}")
        results.sort(key=lambda r: r["key"])
        rows = []
        for r in results:
            qa, qb, ta, tb = r["key"]
            rows.append({"step_a": ta, "step_b": tb, "seq_a": qa, "seq_b": qb,
                         "nnstd": r["nnstd"]["distance"], **r["overlap"]})
        if write and results:
            base = [{"a_run": ia["run_id"], "a_seq": r["key"][0], "b_run": ib["run_id"],
                     "b_seq": r["key"][1]} for r in results]
            res.write_pair_results(self.driver, "NNSTD", [
                {**b, "props": r["nnstd"]} for b, r in zip(base, results, strict=False)], self.database)
            res.write_pair_results(self.driver, "OVERLAP", [
                {**b, "props": r["overlap"]} for b, r in zip(base, results, strict=False)], self.database)
        cols = ["step_a", "step_b", "seq_a", "seq_b", "nnstd", "jaccard", "shared", "only_a",
                "only_b", "sign_flips"]
        return pd.DataFrame(rows, columns=cols)

    # ------------------------------------------------------------------ plots
    def plot(self, run: str, out_dir: str | Path | None = None) -> list[Path]:
        """Write the run's figures as PNGs (default ./sparsetopo-plots/RUN/); their paths."""
        from sparsetopo.api.plots import plot_run

        return plot_run(self, run, out_dir)
