"""Constraints and indexes of the sparsetopo data model (docs/data-model.md).

(:Run {run_id, name, created_at, model, task, strategy, config_json, groups_json, status,
       lease_owner, lease_expires_at})  -- the writer lease (docs/decisions/0003-writer-lease.md)
(:Run)-[:HAS_LAYER]->(:Layer {run_id, name, kind, gate, src_group, dst_group, n_in, n_out, position,
                           role, tied_to})
(:Neuron {run_id, layer, index})            -- `layer` is the neuron group ("input", "hidden", "fc1")
(:Run)-[:HAS_SNAPSHOT]->(:Snapshot {run_id, seq, step, epoch, n_edges, sparsity, complete, ...})
(:Snapshot)-[:NEXT]->(:Snapshot)
(:Neuron)-[:SYNAPSE {run_id, layer, born, died, sign}]->(:Neuron)   -- alive iff born <= seq < died
(:Snapshot)-[:HAS_WEIGHTS]->(:WeightBlock {run_id, seq, layer, chunk, src, dst, w})
"""

from __future__ import annotations

import logging
import re
import time
import weakref

from neo4j import Driver
from neo4j.exceptions import ClientError

__all__ = [
    "SCHEMA_STATEMENTS",
    "ensure_schema",
]

SCHEMA_STATEMENTS: tuple[str, ...] = (
    "CREATE CONSTRAINT run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.run_id IS UNIQUE",
    "CREATE CONSTRAINT run_name IF NOT EXISTS FOR (r:Run) REQUIRE r.name IS UNIQUE",
    "CREATE CONSTRAINT neuron_key IF NOT EXISTS "
    "FOR (n:Neuron) REQUIRE (n.run_id, n.layer, n.index) IS UNIQUE",
    "CREATE CONSTRAINT snapshot_key IF NOT EXISTS "
    "FOR (s:Snapshot) REQUIRE (s.run_id, s.seq) IS UNIQUE",
    "CREATE INDEX snapshot_step IF NOT EXISTS FOR (s:Snapshot) ON (s.run_id, s.step)",
    "CREATE INDEX layer_key IF NOT EXISTS FOR (l:Layer) ON (l.run_id, l.name)",
    "CREATE INDEX weightblock_key IF NOT EXISTS FOR (b:WeightBlock) ON (b.run_id, b.seq)",
    "CREATE INDEX synapse_born IF NOT EXISTS FOR ()-[s:SYNAPSE]-() ON (s.run_id, s.born)",
    "CREATE INDEX synapse_died IF NOT EXISTS FOR ()-[s:SYNAPSE]-() ON (s.run_id, s.died)",
    # Queries filter on layer after the born/died range seek; a third SYNAPSE index cost a third
    # of the store and ~10% of write speed (docs/decisions/0002-ingestion-throughput.md).
    "DROP INDEX synapse_layer IF EXISTS",
    "CREATE INDEX motif_key IF NOT EXISTS FOR (m:Motif) ON (m.run_id, m.seq)",
    "CREATE INDEX part_result_key IF NOT EXISTS FOR (p:PartResult) ON (p.run_id, p.seq)",
)

_INDEX_NAME_TAKEN = "Neo.ClientError.Schema.IndexWithNameAlreadyExists"

_ALREADY_THERE = frozenset({
    "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
    "Neo.ClientError.Schema.IndexAlreadyExists",
    "Neo.ClientError.Schema.ConstraintAlreadyExists",
})

logger = logging.getLogger(__name__)

#: How long a constraint's half-built backing index may stay unclaimed before it counts as left
#: over from a killed server (another writer creating the same constraint finishes well within).
ORPHAN_WAIT_S = 10.0

# Databases each driver has ensured the schema of (weak keys: an id() of a closed driver can be
# reused by a new one).
_ensured: weakref.WeakKeyDictionary[Driver, set[str | None]] = weakref.WeakKeyDictionary()


def ensure_schema(driver: Driver, database: str | None = None) -> None:
    """Create the constraints and indexes if missing (idempotent, once per driver and
    database)."""
    if database in _ensured.get(driver, ()):
        return
    for statement in SCHEMA_STATEMENTS:
        try:
            driver.execute_query(statement, database_=database)
        except ClientError as exc:
            # Writers starting together race on IF NOT EXISTS: the loser is told the rule
            # exists, which is the state it wanted (tests/integration/test_concurrency.py).
            if exc.code in _ALREADY_THERE:
                continue
            if exc.code != _INDEX_NAME_TAKEN or not _repair_orphan(driver, statement, database):
                raise
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    _ensured.setdefault(driver, set()).add(database)


def _repair_orphan(driver: Driver, statement: str, database: str | None) -> bool:
    """Finish a uniqueness constraint whose creation a killed server left half done.

    Neo4j builds a uniqueness constraint in two steps: its backing index, then the constraint
    that owns it. A server killed between the two restarts with the index alone, and every
    ``CREATE CONSTRAINT ... IF NOT EXISTS`` of that name then fails. Another writer may be
    between the two steps right now, so the index counts as left over only when no constraint
    has claimed it within :data:`ORPHAN_WAIT_S`; it is then dropped and the constraint created.

    Returns
    -------
    bool
        True when the constraint exists afterwards (made here or by another writer).
    """
    found = re.match(r"CREATE CONSTRAINT (\w+) ", statement)
    if found is None:
        return False
    name = found.group(1)
    deadline = time.monotonic() + ORPHAN_WAIT_S
    while True:
        constraints, _, _ = driver.execute_query(
            "SHOW CONSTRAINTS YIELD name WHERE name = $name RETURN name", name=name,
            database_=database)
        if constraints:
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    orphans, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, owningConstraint WHERE name = $name AND owningConstraint IS NULL "
        "RETURN name", name=name, database_=database)
    if not orphans:
        return False
    logger.warning("index %r is left over from a constraint whose creation did not finish (a "
                   "server stopped mid-way); dropping it and creating the constraint", name)
    driver.execute_query(f"DROP INDEX {name} IF EXISTS", database_=database)
    try:
        driver.execute_query(statement, database_=database)
    except ClientError as exc:
        if exc.code not in _ALREADY_THERE:
            raise
    return True
