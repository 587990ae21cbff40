"""The Python API a notebook imports: ``store = sparsetopo.connect()``.

Every table comes back as a pandas DataFrame; graphs come back as the analysis layer's
:class:`~sparsetopo.analysis.SignedGraph` (recurrent layer) or
:class:`~sparsetopo.analysis.LayeredGraph` (feed-forward stack). The command line goes through
the same :class:`Store`.

The Store is a facade: each method resolves its run once (:mod:`sparsetopo.api.lookup`) and
delegates, the analyze path to :mod:`sparsetopo.api.analyze`, the tables to
:mod:`sparsetopo.api.tables` and everything that talks to the database to ``graphstore``.

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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError

from sparsetopo.analysis import LayeredGraph, SignedGraph
from sparsetopo.api.analyze import (
    NNSTD_MODES,
    AnalysisReport,
    aligned,
    analysis_rows,
    analyze_run,
    check_options,
    compare_runs,
)
from sparsetopo.api.library import prepare_query
from sparsetopo.api.lookup import (
    ResolvedRun,
    params_int,
    require_layer,
    require_step,
    resolve_run,
    seq_at,
    steps_of,
)
from sparsetopo.api.pipeline import build_graph, edges_of
from sparsetopo.api.plan import ProgressCallback, plan_analysis
from sparsetopo.api.tables import (
    ANALYSIS_PREFIXES,
    HISTORY_BY,
    RUN_COLUMNS,
    edge_frame,
    history_order,
    nnstd_frame,
    part_history,
    parts_frame,
    snapshot_history,
)
from sparsetopo.errors import InputError, ServerError
from sparsetopo.graphstore import results as res
from sparsetopo.graphstore.connection import open_driver, resolve_connection
from sparsetopo.graphstore.liveness import effective_status, run_states
from sparsetopo.graphstore.reader import (
    plain,
    read_snapshot,
    run_statement,
    snapshot_keys,
    snapshots_of,
)
from sparsetopo.graphstore.runs import delete_run, find_run, list_runs, require_run, run_configs
from sparsetopo.queries.library import check_param_values
from sparsetopo.server.config import ConnectionInfo
from sparsetopo.topology import Architecture, GraphSnapshot

if TYPE_CHECKING:
    from sparsetopo.ingest.ingest_files import IngestSummary

# Re-exported: callers imported these from here before they moved to their own modules.
__all__ = [
    "ANALYSIS_PREFIXES",
    "HISTORY_BY",
    "NNSTD_MODES",
    "AnalysisReport",
    "Store",
    "analysis_rows",
    "history_order",
    "params_int",
]

F = TypeVar("F", bound=Callable[..., Any])


def _server_error(exc: Exception, doing: str, run: str, then: str) -> ServerError:
    """Turn a driver error into the one-line ServerError the user sees."""
    text = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
    return ServerError(f"the database failed while {doing} run {run!r} ({type(exc).__name__}: "
                       f"{text}); {then}")


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
                raise _server_error(exc, doing, run, then) from exc

        return wrapper  # type: ignore[return-value]

    return decorate


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

    def _run(self, name: str) -> ResolvedRun:
        """Resolve the run ``name`` (one read; StoreError listing the runs if unknown)."""
        return resolve_run(self.driver, name, self.database)

    def _edges(self, run: ResolvedRun, step: int | None) -> GraphSnapshot:
        """Read one snapshot's weights (the last when ``step`` is None) of a resolved run."""
        seq = None if step is None else seq_at(self.driver, run, params_int("step", step),
                                                self.database)
        return read_snapshot(self.driver, run.name, seq=seq, database=self.database,
                             run=run.record)

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
        return pd.DataFrame([[plain(r[k]) for k in keys] for r in records], columns=list(keys))

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
        text, checked = prepare_query(self.driver, name, params, backend_, self.database)
        return self.cypher(text, read_only_=True, **checked)


    def steps(self, run: str) -> list[int]:
        """Return the steps of the run's complete snapshots, in order."""
        return steps_of(self.driver, self._run(run), self.database)

    def require_step(self, run: str, step: int) -> int:
        """``step`` if the run has a complete snapshot there, else StoreError listing the steps."""
        return require_step(self.driver, self._run(run), step, self.database)

    def require_layer(self, run: str, layer: Any) -> str:
        """``layer`` if the run has a weight layer of that name, else StoreError listing them."""
        return require_layer(self._run(run), layer)

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
        return pd.DataFrame(rows, columns=RUN_COLUMNS)

    def run_configs(self) -> dict[str, str | None]:
        """Return every run's training configuration as stored (JSON text, or None).

        Returns
        -------
        dict of str to str or None
            Run name -> its ``config_json`` (what ``sparsetopo runs`` reads the target
            sparsity from).
        """
        return run_configs(self.driver, self.database)

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
        r = self._run(run)
        props = {k: v for k, v in r.record.items() if k != "architecture_json"}
        props["status"] = run_states(self.driver, self.database).get(run, props.get("status"))
        layers = [dict(spec.__dict__) for spec in r.architecture.layers]
        return {"run": props, "groups": r.architecture.groups, "layers": layers,
                "snapshots": snapshots_of(self.driver, r.run_id, self.database)}

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
            raise _server_error(exc, "deleting", run, "the run is hidden from listings meanwhile: "
                                "run the same command again to finish") from exc

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
        return self._run(run).architecture

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
        r = self._run(run)
        if by == "snapshot":
            return snapshot_history(snapshots_of(self.driver, r.run_id, self.database), run, stats)
        kinds = ("layer", "recurrent") if by == "layer" else None
        rows = res.read_part_results(self.driver, r.run_id, self.database, kinds)
        return part_history(rows, run, r.architecture, by, stats, layers)


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
        return snapshot_keys(self.driver, self._run(run).run_id, self.database)

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
        r = self._run(run)
        keys = snapshot_keys(self.driver, r.run_id, self.database)
        if key not in keys:
            raise InputError(f"run {run!r} stores no statistic {key!r}; stored: {', '.join(keys)}")
        h = snapshot_history(snapshots_of(self.driver, r.run_id, self.database), run)
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
        cols = ["seq", "step", "motif", "count", "null_mean", "null_sd", "z", "z_se", "p",
                "null_model", "part"]
        rows = res.read_motifs(self.driver, self._run(run).run_id, self.database, part)
        return pd.DataFrame(rows, columns=cols)

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
        ida = self._run(run_a).run_id
        idb = ida if run_b in (None, run_a) else self._run(run_b).run_id
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
        return nnstd_frame(self.pairs("NNSTD", run, run_b), run_b is None or run_b == run)

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
        return self._edges(self._run(run), step)

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
        r = self._run(run)
        plan = plan_analysis(r.architecture, layer)
        chosen = plan.part(part) if part is not None else plan.primary_part
        return build_graph(plan, edges_of(self._edges(r, step).layers), chosen)

    def parts(self, run: str, layer: str | None = None) -> pd.DataFrame:
        """List the graphs ``analyze`` computes for a run (its analysis plan).

        Returns
        -------
        pandas.DataFrame
            One row per part: part, kind, primary, layers, sizes.
        """
        return parts_frame(plan_analysis(self.architecture(run), layer))

    def snapshot_frame(self, run: str, step: int | None = None) -> pd.DataFrame:
        """Return the exact weights of one snapshot as a DataFrame.

        The last snapshot when ``step`` is None; one row per edge with columns
        ``layer, src_group, dst_group, src, dst, weight, sign``. For networkx or igraph use
        ``store.snapshot(run, step).to_networkx()`` / ``.to_igraph()``.
        """
        r = self._run(run)
        return edge_frame(r.architecture, self._edges(r, step))

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
        mode = check_options(n_null, motifs, nnstd)
        resolved = self._run(run)
        others = [self._run(name) for name in compare]  # known before any work
        return analyze_run(
            self.driver, self.database, self.info, resolved, mode=mode, motifs=motifs,
            balance=balance, overlap=overlap, null=null, n_null=n_null, compare=others, force=force,
            workers=workers, progress=progress, seed=seed, layer=layer, executor=executor,
            scheduler=scheduler)




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
        return aligned(self.driver, self._run(run_a), self._run(run_b), self.database)

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
        return compare_runs(self.driver, self.database, self.info, self._run(run_a),
                            self._run(run_b), write=write, workers=workers, progress=progress,
                            layer=layer, executor=executor, scheduler=scheduler)

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
