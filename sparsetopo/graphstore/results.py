"""Analysis results written back as data, next to the snapshots they describe.

* Snapshot properties (``SET s += $props``): ffl_balance, ffl_balance_paper, ffl_balance_null,
  ffl_balance_z, ffl_balance_z_null (the null of ffl_balance_z), unbalanced_ffl,
  triangle_unbalanced_fraction, cycle4_balance, nnstd_to_first,
  overlap_prev_jaccard, ... plus ``analysis_<part>`` markers saying what was computed how.
* ``(:Snapshot)-[:HAS_MOTIF]->(:Motif {run_id, seq, name, count, z, z_se, null_mean, null_sd, p,
  null_model})``: one node per motif statistic.
* ``(:Snapshot)-[:NNSTD {distance, per_layer, layers}]->(:Snapshot)`` and
  ``(:Snapshot)-[:OVERLAP {jaccard, shared, only_a, only_b, sign_flips}]->(:Snapshot)``, within a
  run or across runs.

Re-writing replaces: the old Motif nodes of a snapshot, or the old relationship of the same type
between the same two snapshots, are deleted in the same transaction before the new ones are
created (CREATE, never MERGE). Every statement is parameterised; relationship types come from a
fixed table, never from user input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from neo4j import Driver, ManagedTransaction

from sparsetopo.errors import InputError
from sparsetopo.graphstore.connection import READ, session
from sparsetopo.graphstore.runs import RESERVED

#: Rows per write transaction.
BATCH = 2_000

#: Snapshot-to-snapshot result relationships and the properties each carries.
PAIR_TYPES: dict[str, tuple[str, ...]] = {
    "NNSTD": ("distance", "per_layer", "layers"),
    "OVERLAP": ("jaccard", "shared", "only_a", "only_b", "sign_flips"),
}

_MOTIF_FIELDS = ("name", "count", "z", "z_se", "null_mean", "null_sd", "p", "null_model")

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


def read_motifs(driver: Driver, run_id: int, database: str | None = None) -> list[dict[str, Any]]:
    """Every stored Motif of a run with its snapshot's seq and step."""
    records, _, _ = driver.execute_query(
        "MATCH (s:Snapshot {run_id: $id})-[:HAS_MOTIF]->(m:Motif) "
        "RETURN s.seq AS seq, s.step AS step, m.name AS motif, m.count AS count, "
        "m.null_mean AS null_mean, m.null_sd AS null_sd, m.z AS z, m.z_se AS z_se, m.p AS p, "
        "m.null_model AS null_model ORDER BY seq, motif",
        id=run_id, database_=database, routing_=READ,
    )
    return [dict(r) for r in records]


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
