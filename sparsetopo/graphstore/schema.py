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

_ALREADY_THERE = frozenset({
    "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
    "Neo.ClientError.Schema.IndexAlreadyExists",
    "Neo.ClientError.Schema.ConstraintAlreadyExists",
})

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
            if exc.code not in _ALREADY_THERE:
                raise
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    _ensured.setdefault(driver, set()).add(database)
