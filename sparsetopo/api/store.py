"""The Python API a notebook imports: ``store = sparsetopo.connect()``.

Every table comes back as a pandas DataFrame; graphs come back as the analysis layer's
:class:`~sparsetopo.analysis.SignedGraph` (recurrent layer) or
:class:`~sparsetopo.analysis.LayeredGraph` (feed-forward stack). The command line goes through
the same :class:`Store`.

Examples
--------
These need a running database, so they are not run as tests:

>>> import sparsetopo
>>> store = sparsetopo.connect()                          # doctest: +SKIP
>>> store.runs()                                          # doctest: +SKIP
>>> store.history("zhang-prune")["ffl_balance"]           # doctest: +SKIP
>>> g = store.snapshot("zhang-prune", step=200)           # doctest: +SKIP
>>> store.query("overlap", run="zhang-prune", step_a=100, step_b=200)  # doctest: +SKIP
>>> store.analyze("zhang-prune")                          # doctest: +SKIP
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError
from neo4j.graph import Node, Relationship
from neo4j.graph import Path as GraphPath

from sparsetopo.analysis import LayeredGraph, SignedGraph
from sparsetopo.analysis.zscores import warn_few_null_samples
from sparsetopo.api.executors import Executor, make_executor
from sparsetopo.api.notebook import progress_callback
from sparsetopo.api.pipeline import build_graph, edges_of
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
from sparsetopo.errors import InputError, ServerError, StoreError
from sparsetopo.graphstore import results as res
from sparsetopo.graphstore.backend import CHOICES, choose_query_backend
from sparsetopo.graphstore.connection import open_driver, resolve_connection
from sparsetopo.graphstore.liveness import effective_status, run_states
from sparsetopo.graphstore.reader import (
    list_snapshots,
    read_snapshot,
    run_statement,
    snapshot_keys,
    snapshots_of,
)
from sparsetopo.graphstore.runs import (
    RESERVED,
    architecture_from_json,
    delete_run,
    find_run,
    list_runs,
    require_run,
)
from sparsetopo.queries.library import PLUGIN_VARIANTS, check_param_values, get_query
from sparsetopo.server.config import ConnectionInfo
from sparsetopo.topology import Architecture, GraphSnapshot

if TYPE_CHECKING:
    from sparsetopo.ingest.ingest_files import IngestSummary

#: First columns of a history table (the rest follow, see :func:`history_order`).
_HISTORY_FIRST = ("seq", "epoch", "n_edges", "sparsity", "births", "deaths", "sign_flips")
_HISTORY_DROP = ("run_id", "complete")
#: Bookkeeping properties of a snapshot: shown last in a history.
_HISTORY_LAST = ("created_at", "source")
#: Snapshot properties that ``analyze`` writes start with one of these (the rest of a
#: snapshot's non-reserved properties are the user's own metrics).
ANALYSIS_PREFIXES = ("ffl_", "unbalanced_", "triangle_", "cycle4_", "nnstd_", "overlap_",
                     "motif_", "analysis_")
NNSTD_MODES = ("chain", "all")


def _is_companion(base: str, column: str) -> bool:
    """Whether ``column`` reports the null model or Z-score of the statistic ``base``."""
    if not column.startswith(base + "_"):
        return False
    rest = column[len(base) + 1:]
    parts = rest.split("_")
    return "null" in parts or parts[-1] in ("z", "p", "sd")


def history_order(columns: Sequence[str]) -> dict[str, list[str]]:
    """Sort snapshot property names into the groups of a history table.

    Parameters
    ----------
    columns : sequence of str
        Property names of a run's snapshots.

    Returns
    -------
    dict of str to list of str
        ``"core"`` (seq, epoch, sizes and turnover), ``"metrics"`` (the user's own metrics,
        alphabetical), ``"statistics"`` (what ``analyze`` wrote, each statistic directly
        followed by its null-model value and Z-score), ``"markers"`` (``analysis_*`` records of
        how results were computed) and ``"other"`` (bookkeeping such as ``created_at``).

    Examples
    --------
    >>> g = history_order(["step", "accuracy", "ffl_balance_z", "n_edges", "ffl_balance",
    ...                    "ffl_balance_null", "loss", "nnstd_to_first", "analysis_motifs"])
    >>> g["core"], g["metrics"], g["statistics"], g["markers"]
    (['n_edges'], ['accuracy', 'loss'], ['ffl_balance', 'ffl_balance_null', 'ffl_balance_z', 'nnstd_to_first'], ['analysis_motifs'])
    """
    cols = [c for c in columns if c != "step" and c not in _HISTORY_DROP]
    core = [c for c in _HISTORY_FIRST if c in cols]
    other = [c for c in cols if c in _HISTORY_LAST or (c in RESERVED and c not in core)]
    markers = sorted(c for c in cols if c.startswith("analysis_"))
    stats = sorted(c for c in cols if c.startswith(ANALYSIS_PREFIXES) and c not in markers)
    metrics = sorted(c for c in cols if c not in core and c not in other and c not in markers
                     and c not in stats)
    ordered: list[str] = []
    companions = {c for c in stats if any(_is_companion(b, c) for b in stats if b != c)}
    for base in stats:
        if base in companions:
            continue
        ordered.append(base)
        ordered.extend(c for c in stats if c != base and _is_companion(base, c))
    ordered.extend(c for c in stats if c not in ordered)
    return {"core": core, "metrics": metrics, "statistics": ordered, "markers": markers,
            "other": other}


F = TypeVar("F", bound=Callable[..., Any])
_log = logging.getLogger(__name__)
#: ``history(by=...)`` choices.
HISTORY_BY = ("snapshot", "layer", "part")


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


def params_int(name: str, value: Any) -> int:
    """Check an integer parameter.

    Floats with an integral value (as the Browser's ``:params`` makes them) are accepted,
    anything else is an InputError naming the parameter.
    """
    if isinstance(value, bool):
        raise InputError(f"parameter {name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise InputError(f"parameter {name} must be an integer, got {value!r}")


def _listing(values: Sequence[Any], head: int = 12, tail: int = 4) -> str:
    """``0, 5, 10`` or, for long lists, ``0, 5, ..., 200 (41 in all)``."""
    items = [str(v) for v in values]
    if len(items) <= head + tail:
        return ", ".join(items)
    return f"{', '.join(items[:head])}, ..., {', '.join(items[-tail:])} ({len(items)} in all)"


@dataclass
class AnalysisReport:
    """What :meth:`Store.analyze` did.

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
        compared = "".join(f"<tr><td>compared with {k}</td><td>{v} pairs</td></tr>"
                           for k, v in self.compared.items())
        return (
            f"<table><caption>analysis of <b>{_html(self.run)}</b></caption>"
            f"<tr><td>snapshots</td><td>{self.snapshots}</td></tr>"
            f"<tr><td>computed</td><td>{len(self.computed)}</td></tr>"
            f"<tr><td>already stored</td><td>{self.skipped}</td></tr>"
            f"<tr><td>NNSTD / overlap pairs</td><td>{self.pairs}</td></tr>{compared}"
            f"<tr><td>seconds</td><td>{self.seconds:.1f}</td></tr></table>"
        )


def _select(df: pd.DataFrame, stats: Sequence[str] | None, run: str) -> pd.DataFrame:
    """``df`` restricted to ``stats`` (InputError naming the stored columns otherwise)."""
    if stats is None:
        return df
    unknown = [s for s in stats if s not in df.columns]
    if unknown:
        raise InputError(
            f"run {run!r} stores no statistics {unknown}; stored: {', '.join(df.columns)}"
        )
    return df[list(stats)]


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


def _database_failure(doing: str, then: str) -> Callable[[F], F]:
    """Turn a driver error inside a Store method into a one-line ServerError.

    The wrapped method's first argument after ``self`` is the run name, used in the message.
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: Store, run: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, run, *args, **kwargs)
            except (DriverError, Neo4jError) as exc:
                text = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
                raise ServerError(
                    f"the database failed while {doing} run {run!r} ({type(exc).__name__}: "
                    f"{text}); {then}"
                ) from exc

        return wrapper  # type: ignore[return-value]

    return decorate


def _html(text: str) -> str:
    import html

    return html.escape(str(text))


class Store:
    """A connection to the graph store plus the query library and the analyses.

    Create it with :meth:`connect` (or ``sparsetopo.connect()``); use it as a context manager or
    call :meth:`close` when done.

    Parameters
    ----------
    driver : neo4j.Driver
        An open driver.
    database : str, optional
        Database name (default: the server's default database).
    info : ConnectionInfo, optional
        Where the driver points (for ``repr`` and the managed-server hints).
    owns_driver : bool, default False
        Close the driver in :meth:`close`.

    Examples
    --------
    >>> with Store.connect() as store:                        # doctest: +SKIP
    ...     print(store.runs()[["name", "snapshots"]])
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
        log: Callable[[str], None] | None = None,
    ) -> Store:
        """Open a store.

        Parameters
        ----------
        uri : str, optional
            Bolt URI of a server; needs ``password``. Without it: NEO4J_URI / NEO4J_USER /
            NEO4J_PASSWORD / NEO4J_DATABASE when set, else the managed local server.
        user : str, optional
            User name (default ``neo4j``).
        password : str, optional
            Password for ``uri``.
        database : str, optional
            Database name.
        start : bool, default True
            Install and start the managed server if it is not running.
        log : callable, optional
            Receives progress messages (starting the server); default: the module logger.

        Returns
        -------
        Store
            A store that owns its driver.

        Raises
        ------
        InputError
            If ``uri`` is given without a password.
        ServerError
            If the server cannot be started or reached.

        Examples
        --------
        >>> store = Store.connect()                                  # doctest: +SKIP
        >>> store = Store.connect("bolt://db:7687", password="...")  # doctest: +SKIP
        """
        if uri is not None:
            if password is None:
                raise InputError(f"connect(uri={uri!r}) needs password=...; or set NEO4J_PASSWORD")
            info = ConnectionInfo(uri=uri, user=user or "neo4j", password=password,
                                  database=database, managed=False)
        else:
            info = (resolve_connection(start=start) if log is None
                    else resolve_connection(start=start, log=log))
        driver, info = open_driver(info)
        return cls(driver, database or info.database, info, owns_driver=True)

    def close(self) -> None:
        """Close the driver if this store opened it."""
        if self._owns_driver:
            self.driver.close()

    def __enter__(self) -> Store:
        """Use the store in a ``with`` block; it is closed at the end."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the store."""
        self.close()

    def __repr__(self) -> str:
        """Show where the store points."""
        where = self.info.uri if self.info else "driver"
        return f"Store({where}, database={self.database!r})"

    # ------------------------------------------------------------------ plain queries
    def cypher(self, text: str, *, read_only_: bool = False, **params: Any) -> pd.DataFrame:
        """Run any Cypher statement with parameters.

        Parameters
        ----------
        text : str
            The statement; refer to parameters as ``$name``.
        read_only_ : bool, default False
            Run in read access mode: the server refuses any write (``InputError``). Otherwise
            the statement goes out as a read (so a cluster's readers serve it) and is re-sent
            as a write if the server says it writes.
        **params
            Parameter values.

        Returns
        -------
        pandas.DataFrame
            The records, columns in the order of the RETURN clause; nodes and relationships as
            property dicts.

        Raises
        ------
        InputError
            If ``text`` is empty, a parameter cannot be stored (an integer beyond 64 bits), or
            a read-only statement writes.

        Examples
        --------
        >>> store.cypher("MATCH (r:Run) RETURN r.name AS name")     # doctest: +SKIP
        """
        if not isinstance(text, str) or not text.strip():
            raise InputError("the Cypher text is empty")
        check_param_values(params)
        records, keys = run_statement(self.driver, text, params, self.database, read_only_)
        rows = [[_python(r[k]) for k in keys] for r in records]
        return pd.DataFrame(rows, columns=list(keys))

    def query(self, name: str, *, backend_: str | None = None, **params: Any) -> pd.DataFrame:
        """Run a query of the Cypher library with its parameters.

        Parameters
        ----------
        name : str
            Library query name (``sparsetopo query --list``).
        backend_ : {"auto", "plugin", "cypher"}, optional
            For a query with a variant in sparsetopo's server plugin (``overlap``): "auto"
            (default) runs the plugin variant when the server has the plugin at this client's
            version and the plain Cypher otherwise (logged); "plugin" or "cypher" force one.
            Other queries take "auto", or the backend their text needs.
        **params
            Its parameters.

        Returns
        -------
        pandas.DataFrame
            The records.

        Raises
        ------
        InputError
            If the query does not exist, a parameter is missing or unknown, or the query has no
            variant for the requested backend.
        StoreError
            If a run, step or layer does not exist, or the plugin is needed (requested, or
            the query calls it) but the server lacks it or has another version.

        Examples
        --------
        >>> store.query("overlap", run="zhang-prune", step_a=100, step_b=200)  # doctest: +SKIP
        >>> store.query("overlap", run="zhang-prune", step_a=100, step_b=200,
        ...             backend_="cypher")  # doctest: +SKIP
        """
        q = get_query(name)
        params = q.check(params)
        wanted = "auto" if backend_ is None else str(backend_).strip().lower()
        if wanted not in CHOICES:
            raise InputError(f"backend_ is {backend_!r}; use one of {', '.join(CHOICES)}")
        variant = PLUGIN_VARIANTS.get(name)
        uses = "plugin" if q.needs_plugin else "cypher"
        if variant is None and wanted not in ("auto", uses):
            others = ", ".join(PLUGIN_VARIANTS)
            raise InputError(
                f"query {name!r} runs in {'the plugin' if uses == 'plugin' else 'plain Cypher'} "
                f"only, so backend {wanted!r} does not apply; queries with both variants: "
                f"{others}"
            )
        self._check_query_params(params)
        if variant is not None:
            if choose_query_backend(self.driver, self.database, wanted,
                                    f"query {name!r}").backend == "plugin":
                q = get_query(variant)
        elif q.needs_plugin:
            choose_query_backend(self.driver, self.database, "plugin", f"query {name!r}")
        return self.cypher(q.unguarded, read_only_=True, **params)

    def _check_query_params(self, params: Mapping[str, Any]) -> None:
        """Raise a StoreError naming the valid ones for a missing run, step or layer.

        The library's APOC check lines do the same in the Browser.
        """
        for key in ("step", "step_a", "step_b", "limit", "k", "neuron"):
            if key in params:
                params_int(key, params[key])
        for run_key, step_keys in (("run", ("step", "step_a", "step_b")),
                                   ("run_a", ("step_a",)), ("run_b", ("step_b",))):
            if run_key not in params:
                continue
            run = params[run_key]
            if not isinstance(run, str):
                raise InputError(f"parameter {run_key} must be a run name (a string), got {run!r}")
            require_run(self.driver, run, self.database)
            for step_key in step_keys:
                if step_key in params and (run_key == "run" or step_key[-1] == run_key[-1]):
                    self.require_step(run, params_int(step_key, params[step_key]))
            if run_key == "run" and "layer" in params:
                self.require_layer(run, params["layer"])

    def steps(self, run: str) -> list[int]:
        """Return the steps of the run's complete snapshots, in order."""
        return [int(s["step"]) for s in list_snapshots(self.driver, run, self.database)]

    def require_step(self, run: str, step: int) -> int:
        """``step`` if the run has a complete snapshot there, else StoreError listing the steps."""
        steps = self.steps(run)
        if int(step) not in steps:
            raise StoreError(
                f"run {run!r} has no complete snapshot at step {step}; its steps: "
                f"{_listing(steps) if steps else 'none yet'}"
            )
        return int(step)

    def require_layer(self, run: str, layer: Any) -> str:
        """``layer`` if the run has a weight layer of that name, else StoreError listing them."""
        names = [spec.name for spec in self.architecture(run).layers]
        if layer not in names:
            raise StoreError(f"run {run!r} has no layer {layer!r}; its layers: {', '.join(names)}")
        return str(layer)

    # ------------------------------------------------------------------ runs and histories
    def runs(self) -> pd.DataFrame:
        """List every run with its snapshot count, step and sparsity range.

        Returns
        -------
        pandas.DataFrame
            One row per run (oldest first): name, run_id, created_at, model, task, strategy,
            status, snapshots, last_step, min_sparsity, max_sparsity, writer (which writer wrote
            the run: plugin or cypher).

        Examples
        --------
        >>> store.runs()[["name", "snapshots"]]                     # doctest: +SKIP
        """
        rows = list_runs(self.driver, self.database)
        for row in rows:  # a recording run whose writer is gone shows as interrupted
            row["status"] = effective_status(row)
        cols = ["name", "run_id", "created_at", "model", "task", "strategy", "status",
                "snapshots", "last_step", "min_sparsity", "max_sparsity", "writer"]
        return pd.DataFrame(rows, columns=cols)

    def run_info(self, run: str) -> dict[str, Any]:
        """Describe one run: its properties, groups, layers and snapshots.

        Parameters
        ----------
        run : str
            Run name.

        Returns
        -------
        dict
            ``{"run": properties, "groups": {...}, "layers": [...], "snapshots": [...]}``, plain
            values (what ``sparsetopo run show --json`` prints).

        Raises
        ------
        StoreError
            If the run does not exist.
        """
        info = require_run(self.driver, run, self.database)
        arch = architecture_from_json(info["architecture_json"])
        snaps = list_snapshots(self.driver, run, self.database)
        props = {k: v for k, v in info.items() if k != "architecture_json"}
        props["status"] = run_states(self.driver, self.database).get(run, props.get("status"))
        layers = [dict(spec.__dict__) for spec in arch.layers]
        return {"run": props, "groups": arch.groups, "layers": layers, "snapshots": snaps}

    def delete(
        self,
        run: str,
        progress: Callable[[str], None] | None = None,
        confirm: Callable[[], None] | None = None,
    ) -> None:
        """Delete a run and everything it owns.

        Deletion runs in batches; an interrupted delete is finished by calling this again.

        Parameters
        ----------
        run : str
            Run name.
        progress : callable, optional
            Receives the name of each part being deleted (synapses, weights, ...).
        confirm : callable, optional
            Called once the run is known to exist, before anything is deleted (it may raise
            to cancel).

        Raises
        ------
        StoreError
            If the run does not exist.
        ServerError
            If the database fails midway (the run stays hidden from listings; call again).
        """
        if find_run(self.driver, run, self.database) is None:  # 'deleting' runs are finished
            require_run(self.driver, run, self.database)
        if confirm is not None:
            confirm()
        try:
            delete_run(self.driver, run, self.database, progress=progress)
        except (DriverError, Neo4jError) as exc:
            text = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
            raise ServerError(
                f"the database failed while deleting run {run!r} ({type(exc).__name__}: "
                f"{text}); the run is hidden from listings meanwhile: run the same command "
                "again to finish"
            ) from exc

    def architecture(self, run: str) -> Architecture:
        """Return the architecture (groups and layers) of a run.

        Parameters
        ----------
        run : str
            Run name.

        Returns
        -------
        Architecture
            Its neuron groups and weight layers.

        Raises
        ------
        StoreError
            If the run does not exist.
        """
        return architecture_from_json(require_run(self.driver, run, self.database)["architecture_json"])

    def layers(self, run: str) -> pd.DataFrame:
        """Return the weight layers of a run (the ``layers`` library query).

        Parameters
        ----------
        run : str
            Run name.

        Returns
        -------
        pandas.DataFrame
            One row per layer.
        """
        return self.query("layers", run=run)

    def history(
        self,
        run: str,
        stats: Sequence[str] | None = None,
        by: str = "snapshot",
        layers: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return the stored statistics of every complete snapshot.

        Parameters
        ----------
        run : str
            Run name.
        stats : sequence of str, optional
            Only these columns, in this order.
        by : {"snapshot", "layer", "part"}, default "snapshot"
            One row per snapshot (indexed by step); per (step, layer): the layer's edge count,
            density, overlap with the previous snapshot, NNSTD, and a recurrent layer's balance;
            or per (step, part): every analysed graph (whole model, chains, recurrent layers).
        layers : sequence of str, optional
            With ``by="layer"``: only these layers.

        Returns
        -------
        pandas.DataFrame
            ``by="snapshot"``: columns in the groups of :func:`history_order`: sizes and
            turnover, the user's metrics, the analysis statistics (each followed by its null
            value and Z-score), then bookkeeping. Otherwise indexed by (step, layer) or (step,
            part); empty when the run was not analysed since per-part results exist.

        Raises
        ------
        InputError
            If a name in ``stats`` or ``layers`` is not stored, or ``by`` is unknown; the
            message lists the valid ones.
        StoreError
            If the run does not exist.

        Examples
        --------
        >>> store.history("zhang-prune", ["ffl_balance", "ffl_balance_z"])  # doctest: +SKIP
        >>> store.history("resnet", by="layer")["overlap_prev_jaccard"]     # doctest: +SKIP
        """
        if by not in HISTORY_BY:
            raise InputError(f"history by={by!r}; use one of {', '.join(HISTORY_BY)}")
        run_id = require_run(self.driver, run, self.database)["run_id"]
        if by != "snapshot":
            return self._part_history(run, run_id, by, stats, layers)
        df = pd.DataFrame(snapshots_of(self.driver, run_id, self.database))
        if df.empty:
            return pd.DataFrame(index=pd.Index([], name="step"))
        df = df.drop(columns=[c for c in _HISTORY_DROP if c in df.columns])
        groups = history_order(list(df.columns))
        order = [c for key in ("core", "metrics", "statistics", "markers", "other")
                 for c in groups[key]]
        df = df.set_index("step")[order]
        return _select(df, stats, run)

    def _part_history(
        self, run: str, run_id: int, by: str, stats: Sequence[str] | None,
        layers: Sequence[str] | None,
    ) -> pd.DataFrame:
        if layers is not None and by == "layer":
            known = [spec.name for spec in self.architecture(run).layers]
            unknown = [x for x in layers if x not in known]
            if unknown:
                raise InputError(f"run {run!r} has no layers {unknown}; its layers: "
                                 f"{', '.join(known)}")
        kinds = ("layer", "recurrent") if by == "layer" else None
        rows = res.read_part_results(self.driver, run_id, self.database, kinds)
        key = "layer" if by == "layer" else "part"
        if by == "layer":
            merged: dict[tuple[int, str], dict[str, Any]] = {}
            for r in rows:  # a recurrent layer's balance joins its layer row
                layer = r["layers"][0] if r.get("layers") else r["part"]
                m = merged.setdefault((r["seq"], layer), {"seq": r["seq"], "step": r["step"],
                                                          "layer": layer})
                m.update({k: v for k, v in r.items()
                          if k not in ("seq", "step", "part", "kind", "layers")})
            rows = [m for m in merged.values() if layers is None or m["layer"] in layers]
        df = pd.DataFrame(rows)
        if df.empty:
            return pd.DataFrame(index=pd.MultiIndex.from_arrays([[], []], names=["step", key]))
        first = [c for c in ("kind", "layers", "n_edges", "density") if c in df.columns]
        rest = sorted(c for c in df.columns if c not in ("seq", "step", key, *first))
        df = df.set_index(["step", key])[["seq", *first, *rest]]
        return _select(df, stats, run)

    def stored_keys(self, run: str) -> list[str]:
        """List the names of the properties stored on a run's snapshots.

        Parameters
        ----------
        run : str
            Run name.

        Returns
        -------
        list of str
            Sorted property names.
        """
        run_id = require_run(self.driver, run, self.database)["run_id"]
        return snapshot_keys(self.driver, run_id, self.database)

    def statistic(self, run: str, key: str) -> pd.Series:
        """Return one stored statistic over the steps of a run, exactly.

        The ``history`` library query returns the same values rounded (for the Browser).

        Parameters
        ----------
        run : str
            Run name.
        key : str
            A stored property name (:meth:`stored_keys`).

        Returns
        -------
        pandas.Series
            Indexed by step, named ``key``.

        Raises
        ------
        InputError
            If ``key`` is not stored.
        """
        keys = self.stored_keys(run)
        if key not in keys:
            raise InputError(f"run {run!r} stores no statistic {key!r}; stored: {', '.join(keys)}")
        h = self.history(run)
        if key in h:
            return h[key]  # exact values (the Browser's history query rounds floats)
        df = self.query("history", run=run, key=key)
        return pd.Series(df["value"].to_numpy(), index=pd.Index(df["step"], name="step"), name=key)

    def motifs(self, run: str, part: str | None = None) -> pd.DataFrame:
        """Return the stored motif counts and Z-scores of a run.

        Parameters
        ----------
        run : str
            Run name.
        part : str, optional
            Only this analysed graph (:meth:`parts`); default every part (runs with one
            feed-forward chain or one recurrent layer have one).

        Returns
        -------
        pandas.DataFrame
            One row per (step, part, motif): seq, step, motif, count, null_mean, null_sd, z,
            z_se (the Monte Carlo standard error of z), p, null_model, part.

        Notes
        -----
        ``z = (count - null_mean) / null_sd`` against the null model named in each row (Milo et
        al. [1]_).

        References
        ----------
        .. [1] R. Milo, S. Shen-Orr, S. Itzkovitz, N. Kashtan, D. Chklovskii and U. Alon,
           "Network motifs: simple building blocks of complex networks", Science 298(5594),
           824-827 (2002). doi:10.1126/science.298.5594.824
        """
        run_id = require_run(self.driver, run, self.database)["run_id"]
        cols = ["seq", "step", "motif", "count", "null_mean", "null_sd", "z", "z_se", "p",
                "null_model", "part"]
        return pd.DataFrame(res.read_motifs(self.driver, run_id, self.database, part),
                            columns=cols)

    def pairs(self, kind: str, run_a: str, run_b: str | None = None) -> pd.DataFrame:
        """Return the stored NNSTD or OVERLAP results between snapshots.

        Parameters
        ----------
        kind : {"NNSTD", "OVERLAP"}
            Which relationships (case-insensitive).
        run_a : str
            Run of the first snapshots.
        run_b : str, optional
            Run of the second snapshots (default ``run_a``).

        Returns
        -------
        pandas.DataFrame
            One row per stored pair.
        """
        ida = require_run(self.driver, run_a, self.database)["run_id"]
        idb = require_run(self.driver, run_b or run_a, self.database)["run_id"]
        return pd.DataFrame(res.read_pairs(self.driver, kind.upper(), ida, idb, self.database))

    def nnstd_matrix(self, run: str, run_b: str | None = None) -> pd.DataFrame:
        """Return the stored NNSTD as a step x step matrix.

        Parameters
        ----------
        run : str
            Run name (rows).
        run_b : str, optional
            Other run (columns); default ``run``.

        Returns
        -------
        pandas.DataFrame
            Distances, NaN where not computed; symmetric with a zero diagonal within one run.

        Notes
        -----
        NNSTD as defined by Liu et al. [1]_ (see :func:`sparsetopo.analysis.nnstd`).

        References
        ----------
        .. [1] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar,
           M. Pechenizkiy and D. C. Mocanu, "Topological insights into sparse neural networks",
           ECML PKDD 2020, LNCS 12459, pp. 279-294, Springer (2021).
           doi:10.1007/978-3-030-67664-3_17
        """
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
        """Return the exact weights of one snapshot.

        Parameters
        ----------
        run : str
            Run name.
        step : int, optional
            Training step (default: the last snapshot).

        Returns
        -------
        GraphSnapshot
            Per-layer edge arrays.

        Raises
        ------
        StoreError
            If the run or step does not exist.
        """
        if step is not None:
            step = self.require_step(run, params_int("step", step))
        return read_snapshot(self.driver, run, step=step, database=self.database)

    def snapshot(
        self, run: str, step: int | None = None, layer: str | None = None,
        part: str | None = None,
    ) -> SignedGraph | LayeredGraph:
        """Return one snapshot as an analysis graph.

        Parameters
        ----------
        run : str
            Run name.
        step : int, optional
            Training step (default: the last snapshot).
        layer : str, optional
            Analyse this weight layer only.
        part : str, optional
            One analysed part (:meth:`parts`): ``"model"``, ``"chain:<first layer>"``,
            ``"recurrent:<layer>"``; default the primary part.

        Returns
        -------
        SignedGraph or LayeredGraph
            The primary part: the recurrent layer of a vanilla RNN or the feed-forward stack of
            an MLP as before; for any other architecture the whole-model neuron graph (every
            unit of every group a node, ``api.plan.model_offsets`` gives the node ids).

        Raises
        ------
        InputError
            If ``layer`` or ``part`` is unknown (the message lists the valid names).

        Examples
        --------
        >>> from sparsetopo.analysis import ffl_balance
        >>> ffl_balance(store.snapshot("zhang-prune", step=200)).ratio   # doctest: +SKIP
        """
        plan = plan_analysis(self.architecture(run), layer)
        chosen = plan.part(part) if part is not None else plan.primary_part
        return build_graph(plan, edges_of(self.edges(run, step).layers), chosen)

    def parts(self, run: str, layer: str | None = None) -> pd.DataFrame:
        """List the graphs ``analyze`` computes for a run (its analysis plan).

        Returns
        -------
        pandas.DataFrame
            One row per part: part, kind, primary, layers, sizes.
        """
        plan = plan_analysis(self.architecture(run), layer)
        return pd.DataFrame(
            [{"part": p.name, "kind": p.kind, "primary": p.name == plan.primary,
              "layers": list(p.layers), "sizes": list(p.sizes)} for p in plan.parts],
            columns=["part", "kind", "primary", "layers", "sizes"])

    def snapshot_frame(self, run: str, step: int | None = None) -> pd.DataFrame:
        """Return the exact weights of one snapshot as a DataFrame.

        The last snapshot when ``step`` is None; one row per edge with columns
        ``layer, src_group, dst_group, src, dst, weight, sign``. For networkx or igraph use
        ``store.snapshot(run, step).to_networkx()`` / ``.to_igraph()``.
        """
        snap = self.edges(run, step)
        arch = self.architecture(run)
        parts = []
        for spec in arch.layers:
            e = snap.layers.get(spec.name)
            if e is None:
                continue
            w = np.asarray(e.w, dtype=np.float64)
            parts.append(pd.DataFrame({
                "layer": spec.name, "src_group": spec.src_group, "dst_group": spec.dst_group,
                "src": np.asarray(e.src, dtype=np.int64), "dst": np.asarray(e.dst, dtype=np.int64),
                "weight": w, "sign": np.sign(w).astype(np.int8)}))
        cols = ["layer", "src_group", "dst_group", "src", "dst", "weight", "sign"]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)

    # ------------------------------------------------------------------ analysis
    @_database_failure("analysing", "results stored so far are complete: run analyze again "
                       "to finish")
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
        progress: bool | ProgressCallback = False,
        seed: int = 0,
        layer: str | None = None,
        executor: Any = None,
        scheduler: str | None = None,
    ) -> AnalysisReport:
        """Analyse every snapshot of a run and write the results back.

        Computes motif Z-scores, balance, NNSTD and edge overlap, stored as Snapshot
        properties, Motif nodes and NNSTD / OVERLAP relationships.

        Parameters
        ----------
        run : str
            Run name.
        motifs, balance : bool, default True
            Motif counts with Z-scores; FFL / triangle / 4-cycle balance.
        nnstd : bool or {"chain", "all"}, default True
            True or "chain": each snapshot to the first and to the previous one; "all": every
            pair; False: none.
        overlap : bool, default True
            Edge overlap with the previous snapshot.
        null : str, optional
            Null model of the motif Z-scores (default: switching for a recurrent layer,
            layer_switching for a feed-forward stack).
        n_null : int, default 100
            Null-model samples per snapshot.
        compare : iterable of str
            Other runs with the same architecture; their aligned snapshots get NNSTD and OVERLAP
            relationships too.
        force : bool, default False
            Recompute results that exist. Otherwise only what is missing is computed (motifs
            computed with another null model, n_null or seed count as missing).
        workers : int, optional
            Worker processes (default 2).
        progress : bool or callable, default False
            A callback receiving :class:`~sparsetopo.api.plan.ProgressEvent` s (done of total
            tasks), or True: a progress line in Jupyter, log lines (INFO) elsewhere.
        seed : int, default 0
            Seed of the null models (snapshot ``seq`` is added).
        layer : str, optional
            Analyse this weight layer only (an unknown name is an InputError listing them).
        executor : distributed.Client or {"local", "dask"}, optional
            Where the work runs: up to ``workers`` local processes (default), or a Dask
            cluster, whose workers read the snapshots from the database themselves
            (:mod:`sparsetopo.api.executors`).
        scheduler : str, optional
            Address of the Dask scheduler when ``executor="dask"``.

        Returns
        -------
        AnalysisReport
            What was computed.

        Raises
        ------
        InputError
            If an option is invalid (checked before any work).
        StoreError
            If the run does not exist.

        Notes
        -----
        The analysed graphs are the parts of the run's plan (:meth:`parts`,
        :func:`~sparsetopo.api.plan.plan_analysis`): for any architecture other than one
        feed-forward chain or one recurrent layer, the whole-model neuron graph (its statistics
        are the snapshot's properties), every maximal feed-forward chain and every recurrent
        layer, each stored on a ``PartResult`` node, plus per-layer edge counts, overlap and
        NNSTD (:meth:`history` with ``by="layer"``). Re-running replaces results instead of
        duplicating them. The statistics follow
        :mod:`sparsetopo.analysis`: FFL balance (Zhang et al. [1]_), motif Z-scores
        ``z = (N - mean_null) / sd_null`` (Milo et al. [2]_), layered motifs (Zahn et al. [3]_)
        and NNSTD (Liu et al. [4]_).

        References
        ----------
        .. [1] X.-J. Zhang, J. M. Moore, G. Yan and X. Li, "Universal structural patterns in
           sparse recurrent neural networks", Communications Physics 6, 243 (2023).
           doi:10.1038/s42005-023-01364-0
        .. [2] R. Milo, S. Shen-Orr, S. Itzkovitz, N. Kashtan, D. Chklovskii and U. Alon,
           "Network motifs: simple building blocks of complex networks", Science 298(5594),
           824-827 (2002). doi:10.1126/science.298.5594.824
        .. [3] O. T. Zahn, T. L. Daniel and J. N. Kutz, "Motif distribution and function of
           sparse deep neural networks", arXiv:2403.00974 (2024).
           doi:10.48550/arXiv.2403.00974
        .. [4] S. Liu, T. Van der Lee, A. Yaman, Z. Atashgahi, D. Ferraro, G. Sokar,
           M. Pechenizkiy and D. C. Mocanu, "Topological insights into sparse neural networks",
           ECML PKDD 2020, LNCS 12459, pp. 279-294, Springer (2021).
           doi:10.1007/978-3-030-67664-3_17

        Examples
        --------
        >>> report = store.analyze("zhang-prune", n_null=50)        # doctest: +SKIP
        >>> report.computed, report.seconds                          # doctest: +SKIP
        """
        started = time.perf_counter()
        if n_null < 1:
            raise InputError(f"n_null must be >= 1 (got {n_null})")
        if motifs:
            warn_few_null_samples(n_null)
        mode = "chain" if nnstd is True else (nnstd or None)
        if mode is not None and mode not in NNSTD_MODES:
            raise InputError(f"nnstd must be True, False, 'chain' or 'all' (got {nnstd!r})")
        info = require_run(self.driver, run, self.database)  # the run, resolved once
        run_id = info["run_id"]
        plan = plan_analysis(architecture_from_json(info["architecture_json"]), layer)
        options = AnalysisOptions(motifs=motifs, balance=balance, null=null, n_null=n_null,
                                  seed=seed)
        snaps = snapshots_of(self.driver, run_id, self.database)
        report = AnalysisReport(run, len(snaps))
        if not snaps:
            return report
        seqs = [int(s["seq"]) for s in snaps]
        props_by_seq = res.without_unbacked_markers(self.driver, run_id,
                                                    {int(s["seq"]): s for s in snaps}, self.database)
        spec = options.motif_spec(plan)

        tasks: list[SnapshotTask | PairTask] = []
        for seq in seqs:
            p = props_by_seq[seq]
            need_b = balance and (force or p.get("analysis_balance") != plan.balance_marker)
            need_m = motifs and (force or p.get("analysis_motifs") != spec)
            if need_b or need_m:
                tasks.append(SnapshotTask(plan, options.only(need_m, need_b), seq,
                                          SnapshotRef(run, seq)))
        for key in self._pairs_needed(run_id, seqs, props_by_seq, mode, overlap, force):
            tasks.append(PairTask(plan, key, SnapshotRef(run, key[0]), SnapshotRef(run, key[1]),
                                  key[2], key[3]))
        ex = make_executor(executor, workers, scheduler)
        try:
            n_snap = sum(isinstance(t, SnapshotTask) for t in tasks)
            results = self._run(tasks, ex, progress, f"analyze {run} ({n_snap} snapshots + {len(tasks) - n_snap} NNSTD/overlap pairs)")
            self._write_analysis(run_id, seqs, plan, results)
            report.computed = sorted(r.seq for r in results if isinstance(r, SnapshotResult))
            report.pairs = sum(1 for r in results if isinstance(r, PairResult))
            for other in compare:
                report.compared[other] = len(self.compare(run, other, write=True, progress=progress,
                                                          layer=layer, executor=ex))
        finally:
            if ex is not executor:
                ex.close()
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
        for prev, seq in itertools.pairwise(seqs):
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
        self,
        tasks: Sequence[SnapshotTask | PairTask],
        ex: Executor,
        progress: bool | ProgressCallback | None,
        label: str,
    ) -> list[Any]:
        """Run the tasks on ``ex``, reporting progress to the callback (see :func:`progress_callback`)."""
        report = progress_callback(progress)
        if report is None or not tasks:
            return ex.run(tasks, self.driver, self.database, self.info)
        total = len(tasks)
        report(ProgressEvent(label, 0, total))
        done = 0

        def advance(_result: Any) -> None:
            nonlocal done
            done += 1
            report(ProgressEvent(label, done, total))

        return ex.run(tasks, self.driver, self.database, self.info, on_done=advance)

    def _write_analysis(
        self, run_id: int, seqs: list[int], plan: AnalysisPlan, results: Sequence[Any]
    ) -> None:
        """Store what ``analyze`` computed (rows built by :func:`analysis_rows`)."""
        rows = analysis_rows(run_id, seqs, plan, results)
        res.write_analysis(self.driver, run_id, rows, self.database)

    def aligned(self, run_a: str, run_b: str) -> list[tuple[int, int, int, int]]:
        """Pair up the snapshots of two runs.

        Parameters
        ----------
        run_a, run_b : str
            Run names.

        Returns
        -------
        list of (int, int, int, int)
            ``(seq_a, step_a, seq_b, step_b)``: snapshots with equal steps when the runs share
            any step, else by position.
        """
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
        progress: bool | ProgressCallback = False,
        layer: str | None = None,
        executor: Any = None,
        scheduler: str | None = None,
    ) -> pd.DataFrame:
        """Compare the aligned snapshots of two runs with the same architecture.

        Parameters
        ----------
        run_a, run_b : str
            Run names.
        write : bool, default True
            Store the results as NNSTD / OVERLAP relationships from run_a's snapshots to
            run_b's.
        workers : int, optional
            Worker processes (default 2).
        progress : bool or callable, default False
            As in :meth:`analyze`.
        layer : str, optional
            Compare this weight layer only.
        executor, scheduler
            As in :meth:`analyze`.

        Returns
        -------
        pandas.DataFrame
            One row per :meth:`aligned` pair: steps, seqs, NNSTD and overlap counts.

        Raises
        ------
        InputError
            If the architectures differ.
        """
        ia = require_run(self.driver, run_a, self.database)
        ib = require_run(self.driver, run_b, self.database)
        arch_a = architecture_from_json(ia["architecture_json"])
        arch_b = architecture_from_json(ib["architecture_json"])
        if arch_a != arch_b:
            raise InputError(
                f"runs {run_a!r} and {run_b!r} have different architectures; NNSTD and overlap "
                "compare networks of the same shape"
            )
        plan = plan_analysis(arch_a, layer)
        pairs = self.aligned(run_a, run_b)
        tasks: list[SnapshotTask | PairTask] = [
            PairTask(plan, (qa, qb, ta, tb), SnapshotRef(run_a, qa), SnapshotRef(run_b, qb))
            for qa, ta, qb, tb in pairs
        ]
        ex = make_executor(executor, workers, scheduler)
        try:
            results = self._run(tasks, ex, progress, f"compare {run_a} {run_b}")
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
            res.write_comparison(self.driver, ia["run_id"], ib["run_id"], [
                {"key": r.key, "nnstd": r.nnstd, "overlap": r.overlap} for r in results],
                self.database)
        cols = ["step_a", "step_b", "seq_a", "seq_b", "nnstd", "jaccard", "shared", "only_a",
                "only_b", "sign_flips"]
        return pd.DataFrame(rows, columns=cols)

    # ------------------------------------------------------------------ ingest
    def ingest(self, paths: str | Path | Sequence[str | Path], run: str,
               **options: Any) -> IngestSummary:
        """Import checkpoint files as snapshots of a run, like ``sparsetopo ingest``.

        Same options (``fmt``, ``steps``, ``keep_bias``, ``allow_nonfinite``, ``replace``,
        ``n``, ``task``, ``model``, ``strategy``, ``metrics``, ``progress``), checks and errors
        as the command: see :func:`sparsetopo.ingest.ingest_files.ingest_files`.

        Examples
        --------
        >>> store.ingest("tests/data/zhang2023-sparse-rnn/MNIST/pruning_n_150_p_0.05",
        ...              run="zhang-prune", strategy="pruning")  # doctest: +SKIP
        """
        from sparsetopo.ingest.ingest_files import ingest_files

        return ingest_files(self.driver, paths, run, database=self.database, **options)

    # ------------------------------------------------------------------ plots
    def plot(
        self,
        run: str | Sequence[str],
        out_dir: str | Path | None = None,
        fmt: str = "png",
        dpi: int = 150,
    ) -> list[Path]:
        """Write the figures of a run, or of several runs overlaid.

        Parameters
        ----------
        run : str or sequence of str
            Run name, or several names to overlay in the same figures.
        out_dir : str or Path, optional
            Folder (default ``./sparsetopo-plots/RUN/``).
        fmt : {"png", "pdf", "svg"}, default "png"
            File format.
        dpi : int, default 150
            Resolution of raster formats.

        Returns
        -------
        list of Path
            The files written. In a notebook, :func:`sparsetopo.api.plots.figures` returns the
            figures themselves.
        """
        from sparsetopo.api.plots import plot_runs

        runs = [run] if isinstance(run, str) else list(run)
        return plot_runs(self, runs, out_dir, fmt=fmt, dpi=dpi)
