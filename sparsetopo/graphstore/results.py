"""Analysis results written back as data, next to the snapshots they describe.

* Snapshot properties (``SET s += $props``): ffl_balance, ffl_balance_paper, ffl_balance_null,
  ffl_balance_z, ffl_balance_z_null (the null of ffl_balance_z), unbalanced_ffl,
  triangle_unbalanced_fraction, cycle4_balance, nnstd_to_first,
  overlap_prev_jaccard, ... plus ``analysis_<part>`` markers saying what was computed how.
* ``(:Snapshot)-[:HAS_MOTIF]->(:Motif {run_id, seq, name, count, z, z_se, null_mean, null_sd, p,
  null_model})``: one node per motif statistic.
* ``(:Snapshot)-[:HAS_RESULT]->(:PartResult {run_id, seq, part, kind, layers, ...})``: the
  statistics of one analysed part of a snapshot (the whole-model graph, a chain, a recurrent
  layer, or one layer's edge counts, overlap and NNSTD); Motif nodes carry the ``part`` they
  belong to (absent on runs analysed before parts existed: the snapshot's primary graph).
* ``(:Snapshot)-[:NNSTD {distance, per_layer, layers}]->(:Snapshot)`` and
  ``(:Snapshot)-[:OVERLAP {jaccard, shared, only_a, only_b, sign_flips}]->(:Snapshot)``, within a
  run or across runs.

Re-writing replaces: the old Motif nodes of a snapshot, or the old relationship of the same type
between the same two snapshots, are deleted in the same transaction before the new ones are
created (CREATE, never MERGE). Every statement is parameterised; relationship types come from a
fixed table, never from user input.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import IncompleteCommit, ServiceUnavailable, SessionExpired, TransientError

from sparsetopo.errors import InputError
from sparsetopo.graphstore.connection import READ, session
from sparsetopo.graphstore.runs import RESERVED

__all__ = [
    "BATCH",
    "PAIR_TYPES",
    "analysis_units",
    "count_results",
    "read_motifs",
    "read_pairs",
    "read_part_results",
    "unbacked_markers",
    "without_unbacked_markers",
    "write_analysis",
    "write_comparison",
    "write_pair_results",
    "write_part_results",
    "write_snapshot_results",
]

_log = logging.getLogger(__name__)

#: Rows per write transaction.
BATCH = 2_000

#: Snapshot-to-snapshot result relationships and the properties each carries.
PAIR_TYPES: dict[str, tuple[str, ...]] = {
    "NNSTD": ("distance", "per_layer", "layers"),
    "OVERLAP": ("jaccard", "shared", "only_a", "only_b", "sign_flips"),
}

#: Properties of a PartResult node owned by the writer (never overwritten by a statistic).
_PART_KEYS = ("run_id", "seq", "part", "kind", "layers")
_MOTIF_FIELDS = ("name", "count", "z", "z_se", "null_mean", "null_sd", "p", "null_model", "part")

_PAIR_STATEMENTS: dict[str, str] = {
    kind: (
        "UNWIND $rows AS row "
        "MATCH (a:Snapshot {run_id: row.a_run, seq: row.a_seq}) "
        "MATCH (b:Snapshot {run_id: row.b_run, seq: row.b_seq}) "
        f"OPTIONAL MATCH (a)-[old:{kind}]->(b) "
        "DELETE old "
        "WITH DISTINCT a, b, row "
        f"CREATE (a)-[x:{kind}]->(b) SET x = row.props"
    )
    for kind in PAIR_TYPES
}


def _clean_value(value: Any) -> Any:
    """Neo4j-storable value: numpy scalars -> Python, lists of numbers stay lists."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_clean_value(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    raise InputError(f"cannot store a result value of type {type(value).__name__}")


def _clean_props(props: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in props.items():
        if key in RESERVED:
            raise InputError(
                f"result property {key!r} would overwrite a snapshot property owned by the "
                "writer; choose another name"
            )
        out[str(key)] = _clean_value(value)
    return out


def _batches(rows: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def write_snapshot_results(
    driver: Driver,
    run_id: int,
    rows: Sequence[Mapping[str, Any]],
    database: str | None = None,
) -> int:
    """Write per-snapshot results. Each row: ``{"seq": int, "props": {...}, "motifs": [...] |
    None}``; ``motifs=None`` leaves stored Motif nodes alone, a list (possibly empty) replaces
    them. Returns the number of snapshots written."""
    payload = []
    for row in rows:
        motifs = row.get("motifs")
        payload.append(
            {
                "seq": int(row["seq"]),
                "props": _clean_props(row.get("props") or {}),
                "replace_motifs": motifs is not None,
                "motifs": [
                    {k: _clean_value(m.get(k)) for k in _MOTIF_FIELDS} for m in (motifs or [])
                ],
            }
        )

    def work(tx: ManagedTransaction, part: Sequence[dict[str, Any]]) -> None:
        tx.run(
            "UNWIND $rows AS row "
            "MATCH (s:Snapshot {run_id: $id, seq: row.seq}) SET s += row.props",
            rows=part, id=run_id,
        ).consume()
        tx.run(
            "UNWIND $rows AS row WITH row WHERE row.replace_motifs "
            "MATCH (m:Motif {run_id: $id, seq: row.seq}) DETACH DELETE m",
            rows=part, id=run_id,
        ).consume()
        tx.run(
            "UNWIND $rows AS row WITH row WHERE row.replace_motifs "
            "MATCH (s:Snapshot {run_id: $id, seq: row.seq}) "
            "UNWIND row.motifs AS m "
            "CREATE (s)-[:HAS_MOTIF]->(x:Motif) SET x = m, x.run_id = $id, x.seq = row.seq",
            rows=part, id=run_id,
        ).consume()

    with session(driver, database, write=True) as s:
        for part in _batches(payload, 200):
            s.execute_write(work, part)
    return len(payload)


def write_pair_results(
    driver: Driver,
    kind: str,
    rows: Sequence[Mapping[str, Any]],
    database: str | None = None,
) -> int:
    """Write NNSTD or OVERLAP relationships. Each row: ``{"a_run": run_id, "a_seq": int,
    "b_run": run_id, "b_seq": int, "props": {...}}``; an existing relationship of the same kind
    from a to b is replaced."""
    if kind not in PAIR_TYPES:
        raise InputError(f"unknown result relationship {kind!r}; use one of {sorted(PAIR_TYPES)}")
    payload = [
        {
            "a_run": r["a_run"],
            "a_seq": int(r["a_seq"]),
            "b_run": r["b_run"],
            "b_seq": int(r["b_seq"]),
            "props": {k: _clean_value(v) for k, v in (r.get("props") or {}).items()},
        }
        for r in rows
    ]
    statement = _PAIR_STATEMENTS[kind]

    def work(tx: ManagedTransaction, part: Sequence[dict[str, Any]]) -> None:
        tx.run(statement, rows=part).consume()

    with session(driver, database, write=True) as s:
        for part in _batches(payload):
            s.execute_write(work, part)
    return len(payload)


def read_motifs(
    driver: Driver, run_id: int, database: str | None = None, part: str | None = None
) -> list[dict[str, Any]]:
    """Stored Motif rows of a run with their snapshot's seq and step.

    ``part`` None: every part (a run analysed before parts existed has one, the snapshot's
    primary graph); else only that part."""
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot {run_id: $id})-[:HAS_MOTIF]->(m:Motif) "
        "WITH s, m, coalesce(m.part, s.analysis_primary, 'primary') AS part "
        "WHERE $part IS NULL OR part = $part "
        "RETURN s.seq AS seq, s.step AS step, m.name AS motif, m.count AS count, "
        "m.null_mean AS null_mean, m.null_sd AS null_sd, m.z AS z, m.z_se AS z_se, m.p AS p, "
        "m.null_model AS null_model, part ORDER BY seq, part, motif",
        id=run_id, part=part, database_=database, routing_=READ,
    )
    return [dict(r) for r in records]


def _part_payload(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"seq": int(r["seq"]), "part": str(r["part"]), "kind": str(r["kind"]),
         "layers": [str(x) for x in r["layers"]],
         "props": {str(k): _clean_value(v) for k, v in (r.get("props") or {}).items()
                   if k not in _PART_KEYS}}
        for r in rows
    ]


def _write_parts(tx: ManagedTransaction, run_id: int, part: Sequence[dict[str, Any]]) -> None:
    tx.run(
        "UNWIND $rows AS row "
        "MATCH (s:Snapshot {run_id: $id, seq: row.seq}) "
        "WHERE NOT EXISTS { (s)-[:HAS_RESULT]->(:PartResult {part: row.part}) } "
        "CREATE (s)-[:HAS_RESULT]->(:PartResult {run_id: $id, seq: row.seq, part: row.part})",
        rows=part, id=run_id,
    ).consume()
    tx.run(
        "UNWIND $rows AS row "
        "MATCH (s:Snapshot {run_id: $id, seq: row.seq})-[:HAS_RESULT]->"
        "(p:PartResult {part: row.part}) "
        "SET p.kind = row.kind, p.layers = row.layers, p += row.props",
        rows=part, id=run_id,
    ).consume()


def write_part_results(
    driver: Driver,
    run_id: int,
    rows: Sequence[Mapping[str, Any]],
    database: str | None = None,
) -> int:
    """Write per-part results. Each row: ``{"seq", "part", "kind", "layers", "props"}``, one per
    (seq, part); the snapshot's PartResult node of that part is created if missing, and
    ``props`` are set on it (other stored properties stay). Returns the rows written."""
    payload = _part_payload(rows)
    with session(driver, database, write=True) as s:
        for part in _batches(payload, 500):
            s.execute_write(_write_parts, run_id, part)
    return len(payload)

def read_part_results(
    driver: Driver, run_id: int, database: str | None = None, kinds: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Stored PartResult rows of a run's complete snapshots: seq, step, part, kind, layers and
    every stored statistic, ordered by seq and part; ``kinds`` keeps only those kinds."""
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot {run_id: $id})-[:HAS_RESULT]->(p:PartResult) "
        "WHERE s.complete = true AND ($kinds IS NULL OR p.kind IN $kinds) "
        "RETURN s.seq AS seq, s.step AS step, p {.*} AS p ORDER BY seq, p.part",
        id=run_id, kinds=list(kinds) if kinds is not None else None, database_=database,
        routing_=READ,
    )
    out = []
    for r in records:
        props = {k: v for k, v in dict(r["p"]).items() if k not in ("run_id", "seq")}
        out.append({"seq": r["seq"], "step": r["step"], **props})
    return out


def read_pairs(
    driver: Driver, kind: str, run_a: int, run_b: int, database: str | None = None
) -> list[dict[str, Any]]:
    """Stored NNSTD / OVERLAP relationships from snapshots of run_a (run_id) to run_b's."""
    if kind not in PAIR_TYPES:
        raise InputError(f"unknown result relationship {kind!r}; use one of {sorted(PAIR_TYPES)}")
    records, _, _ = driver.execute_query(
        f"MATCH (a:Snapshot {{run_id: $a}})-[x:{kind}]->(b:Snapshot {{run_id: $b}}) "
        "RETURN a.seq AS seq_a, a.step AS step_a, b.seq AS seq_b, b.step AS step_b, "
        "properties(x) AS props ORDER BY seq_a, seq_b",
        a=run_a, b=run_b, database_=database, routing_=READ,
    )
    return [
        {"seq_a": r["seq_a"], "step_a": r["step_a"], "seq_b": r["seq_b"], "step_b": r["step_b"],
         **dict(r["props"])}
        for r in records
    ]


def count_results(driver: Driver, run_id: int, database: str | None = None) -> dict[str, int]:
    """How many Motif nodes and NNSTD / OVERLAP relationships start at a run's snapshots."""
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot {run_id: $id}) "
        "CALL (s) { OPTIONAL MATCH (s)-[:HAS_MOTIF]->(m:Motif) RETURN count(m) AS motifs } "
        "CALL (s) { OPTIONAL MATCH (s)-[n:NNSTD]->() RETURN count(n) AS nnstd } "
        "CALL (s) { OPTIONAL MATCH (s)-[o:OVERLAP]->() RETURN count(o) AS overlap } "
        "RETURN sum(motifs) AS motifs, sum(nnstd) AS nnstd, sum(overlap) AS overlap",
        id=run_id, database_=database, routing_=READ,
    )
    r = records[0]
    return {"motifs": int(r["motifs"] or 0), "nnstd": int(r["nnstd"] or 0),
            "overlap": int(r["overlap"] or 0)}


# -- analysis write-back as one unit ------------------------------------------------------------

#: Snapshots whose results go into one write-back transaction (with every NNSTD / OVERLAP
#: relationship into them); fewer when their pair rows exceed :data:`BATCH`.
SNAPSHOTS_PER_TRANSACTION = 200

#: Seconds a write-back transaction is retried after the server went away (it replaces what
#: it writes, so a repeat after an unacknowledged commit writes nothing twice).
RETRY_SECONDS = 10.0

#: Fault injection for tests/faults: ``"kill-after=N[,chunk=K]"`` kills this process with
#: SIGKILL right after its N-th write-back commit (K snapshots per transaction).
FAULT_ENV = "SPARSETOPO_FAULT_RESULTS"

#: Called with the number of write-back transactions committed so far, after each commit
#: (tests/faults kill the server or the client here).
after_commit: Callable[[int], None] | None = None

#: Snapshot markers and what each one stands for.
MARKERS = ("analysis_balance", "analysis_motifs", "analysis_nnstd", "analysis_overlap")


def _fault_settings() -> tuple[int | None, int | None]:
    raw = os.environ.get(FAULT_ENV, "")
    kill_after: int | None = None
    chunk: int | None = None
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = part.partition("=")
        if key == "kill-after":
            kill_after = int(value)
        elif key == "chunk":
            chunk = int(value)
    return kill_after, chunk


def analysis_units(rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Group analysis rows by the snapshot they belong to.

    ``rows`` as ``api.analyze.analysis_rows`` builds them: ``"snapshots"`` (seq, props, motifs),
    ``"parts"`` (seq, part, kind, layers, props), ``"nnstd"`` / ``"overlap"`` (a_run, a_seq,
    b_run, b_seq, props). A pair result (a, b) belongs to snapshot b, whose
    ``analysis_nnstd`` / ``analysis_overlap`` marker says it was computed. Each unit:
    ``{"seq", "props", "markers", "motifs", "parts", "nnstd", "overlap"}`` (props without the
    ``analysis_*`` markers; motifs None = leave stored Motifs alone).
    """
    units: dict[int, dict[str, Any]] = {}

    def unit(seq: int) -> dict[str, Any]:
        return units.setdefault(int(seq), {"seq": int(seq), "props": {}, "markers": {},
                                           "motifs": None, "parts": [], "nnstd": [],
                                           "overlap": []})

    for r in rows.get("snapshots", ()):
        target = unit(r["seq"])
        for key, value in (r.get("props") or {}).items():
            (target["markers"] if key.startswith("analysis_") else target["props"])[key] = value
        if r.get("motifs") is not None:
            target["motifs"] = r["motifs"]
    for r in rows.get("parts", ()):
        unit(r["seq"])["parts"].append(r)
    for kind in ("nnstd", "overlap"):
        for r in rows.get(kind, ()):
            unit(r["b_seq"])[kind].append(r)
    return [units[s] for s in sorted(units)]


def _chunks(units: Sequence[dict[str, Any]], per_tx: int) -> Iterable[list[dict[str, Any]]]:
    part: list[dict[str, Any]] = []
    rows = 0
    for u in units:
        n = len(u["nnstd"]) + len(u["overlap"]) + len(u["motifs"] or ()) + len(u["parts"])
        if part and (len(part) >= per_tx or rows + n > BATCH):
            yield part
            part, rows = [], 0
        part.append(u)
        rows += n
    if part:
        yield part


def _write_units(tx: ManagedTransaction, run_id: int, part: Sequence[dict[str, Any]]) -> None:
    """One transaction: results, motifs and relationships of the snapshots in `part`, then
    (last) their markers."""
    rows = [{"seq": u["seq"], "props": _clean_props(u["props"]),
             "replace_motifs": u["motifs"] is not None,
             "motifs": [{k: _clean_value(m.get(k)) for k in _MOTIF_FIELDS}
                        for m in (u["motifs"] or [])]} for u in part]
    tx.run("UNWIND $rows AS row "
           "MATCH (s:Snapshot {run_id: $id, seq: row.seq}) SET s += row.props",
           rows=rows, id=run_id).consume()
    tx.run("UNWIND $rows AS row WITH row WHERE row.replace_motifs "
           "MATCH (m:Motif {run_id: $id, seq: row.seq}) DETACH DELETE m",
           rows=rows, id=run_id).consume()
    tx.run("UNWIND $rows AS row WITH row WHERE row.replace_motifs "
           "MATCH (s:Snapshot {run_id: $id, seq: row.seq}) UNWIND row.motifs AS m "
           "CREATE (s)-[:HAS_MOTIF]->(x:Motif) SET x = m, x.run_id = $id, x.seq = row.seq",
           rows=rows, id=run_id).consume()
    for kind in PAIR_TYPES:
        pairs = [_pair_row(r) for u in part for r in u[kind.lower()]]
        if pairs:
            tx.run(_PAIR_STATEMENTS[kind], rows=pairs).consume()
    part_rows = [p for u in part for p in u["parts"]]
    if part_rows:
        _write_parts(tx, run_id, _part_payload(part_rows))
    markers = [{"seq": u["seq"], "props": _clean_props(u["markers"])}
               for u in part if u["markers"]]
    if markers:
        tx.run("UNWIND $rows AS row "
               "MATCH (s:Snapshot {run_id: $id, seq: row.seq}) SET s += row.props",
               rows=markers, id=run_id).consume()


def _pair_row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"a_run": r["a_run"], "a_seq": int(r["a_seq"]), "b_run": r["b_run"],
            "b_seq": int(r["b_seq"]),
            "props": {k: _clean_value(v) for k, v in (r.get("props") or {}).items()}}


def _commit(driver: Driver, database: str | None, work: Callable[[Any], None],
            retry_seconds: float) -> None:
    """Run `work` in one explicit write transaction, repeated (bounded) when the server went
    away; the driver's own retries (which log a warning each) are not used."""
    deadline = time.monotonic() + retry_seconds
    delay = 0.5
    while True:
        try:
            with session(driver, database, write=True) as s, s.begin_transaction() as tx:
                work(tx)
                tx.commit()
            return
        except (ServiceUnavailable, SessionExpired, TransientError, IncompleteCommit):
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 2.0)


def write_analysis(
    driver: Driver,
    run_id: int,
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    database: str | None = None,
    retry_seconds: float = RETRY_SECONDS,
) -> int:
    """Write what ``Store.analyze`` computed, one snapshot's results as one unit.

    Parameters
    ----------
    driver : neo4j.Driver
    run_id : int
        The analysed run.
    rows : mapping
        ``api.analyze.analysis_rows``: ``"snapshots"``, ``"parts"``, ``"nnstd"``, ``"overlap"``.
    database : str, optional
    retry_seconds : float
        Bound on retrying a transaction after the server went away.

    Returns
    -------
    int
        Write-back transactions committed.

    Notes
    -----
    A snapshot's properties, Motif nodes, the NNSTD / OVERLAP relationships into it and, last,
    its PartResult nodes and, last, its ``analysis_*`` markers are committed in one transaction (several snapshots share one):
    a marker is never visible without what it marks, so an interrupted write-back leaves some
    snapshots fully done and the others untouched, and :func:`unbacked_markers` finds nothing.
    """
    units = analysis_units(rows)
    kill_after, chunk = _fault_settings()
    committed = 0
    for part in _chunks(units, chunk or SNAPSHOTS_PER_TRANSACTION):
        _commit(driver, database, functools.partial(_write_units, run_id=run_id, part=part),
                retry_seconds)
        committed += 1
        if after_commit is not None:
            after_commit(committed)
        if kill_after is not None and committed >= kill_after:
            _log.warning("fault injection (%s): killing this process after commit %d",
                         FAULT_ENV, committed)
            os.kill(os.getpid(), signal.SIGKILL)
    return committed


def write_comparison(
    driver: Driver,
    run_a: int,
    run_b: int,
    results: Sequence[Mapping[str, Any]],
    database: str | None = None,
    retry_seconds: float = RETRY_SECONDS,
) -> int:
    """Write ``Store.compare`` results: the NNSTD and OVERLAP relationship of each pair of
    aligned snapshots in the same transaction (a pair is never half-written). Each result:
    ``key=(seq_a, seq_b, ...)``, ``nnstd``, ``overlap``. Returns the transactions committed."""
    rows = [{"a_run": run_a, "a_seq": int(r["key"][0]), "b_run": run_b, "b_seq": int(r["key"][1]),
             "nnstd": r.get("nnstd"), "overlap": r.get("overlap")} for r in results]
    kill_after, chunk = _fault_settings()
    per_tx = chunk or BATCH // 2

    def work(tx: Any, part: Sequence[dict[str, Any]]) -> None:
        for kind in PAIR_TYPES:
            pairs = [_pair_row({**r, "props": r[kind.lower()]}) for r in part
                     if r[kind.lower()] is not None]
            if pairs:
                tx.run(_PAIR_STATEMENTS[kind], rows=pairs).consume()

    committed = 0
    for part in _batches(rows, per_tx):
        _commit(driver, database, functools.partial(work, part=part), retry_seconds)
        committed += 1
        if after_commit is not None:
            after_commit(committed)
        if kill_after is not None and committed >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    return committed


def unbacked_markers(
    driver: Driver, run_id: int, database: str | None = None
) -> dict[int, list[str]]:
    """Markers of a run's snapshots that claim more than is stored.

    ``analysis_nnstd`` on snapshot b needs NNSTD relationships from the run's first complete
    snapshot and from b's previous one; ``analysis_overlap`` an OVERLAP relationship from the
    previous one; ``analysis_motifs`` at least one Motif node. (Older versions wrote markers
    and relationships in separate transactions, so an interrupted analyze could leave markers
    without them.)

    Returns
    -------
    dict of int to list of str
        seq -> the markers to disregard (compute that part again).
    """
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot {run_id: $id}) WHERE s.complete = true "
        "CALL (s) { OPTIONAL MATCH (s)-[:HAS_MOTIF]->(m:Motif) RETURN count(m) AS motifs } "
        "CALL (s) { OPTIONAL MATCH (a:Snapshot {run_id: $id})-[:NNSTD]->(s) "
        "  RETURN collect(a.seq) AS nnstd_from } "
        "CALL (s) { OPTIONAL MATCH (a:Snapshot {run_id: $id})-[:OVERLAP]->(s) "
        "  RETURN collect(a.seq) AS overlap_from } "
        "RETURN s.seq AS seq, s.analysis_nnstd IS NOT NULL AS nnstd, "
        "s.analysis_overlap IS NOT NULL AS overlap, s.analysis_motifs IS NOT NULL AS motif_mark, "
        "motifs, nnstd_from, overlap_from ORDER BY seq",
        id=run_id, database_=database, routing_=READ,
    )
    out: dict[int, list[str]] = {}
    first = records[0]["seq"] if records else None
    prev = None
    for r in records:
        seq = int(r["seq"])
        gone = []
        if r["motif_mark"] and not r["motifs"]:
            gone.append("analysis_motifs")
        if prev is not None:
            if r["nnstd"] and not {first, prev} <= set(r["nnstd_from"]):
                gone.append("analysis_nnstd")
            if r["overlap"] and prev not in set(r["overlap_from"]):
                gone.append("analysis_overlap")
        if gone:
            out[seq] = gone
        prev = seq
    return out


def without_unbacked_markers(
    driver: Driver, run_id: int, props_by_seq: Mapping[int, Mapping[str, Any]],
    database: str | None = None,
) -> dict[int, dict[str, Any]]:
    """`props_by_seq` (seq -> snapshot properties) with the markers that
    :func:`unbacked_markers` finds removed, so that the analysis computes that part again."""
    gone = unbacked_markers(driver, run_id, database)
    if gone:
        _log.warning("run id %d: %d snapshot(s) carry analysis markers without the results "
                     "they mark (an interrupted analyze); computing those parts again",
                     run_id, len(gone))
    return {seq: {k: v for k, v in props.items() if k not in gone.get(seq, ())}
            for seq, props in props_by_seq.items()}
