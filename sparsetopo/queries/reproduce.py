"""The Cypher each paper's reproduction shows beside its figures.

``sparsetopo reproduce`` puts these statements in its report (with the run-name prefix of the
reproduction, ``reproduce.report.prefix_query``) so a reader can fetch a figure's data in Neo4j
Browser or with ``Store.cypher``. They live here because Cypher lives only in ``queries/`` and
``graphstore/``.
"""

from __future__ import annotations

__all__ = [
    "LIU2020_ACCURACY",
    "LIU2020_NNSTD",
    "MACKEY2024_ERROR",
    "ZAHN2024_EDGES",
    "ZAHN2024_MOTIFS",
    "ZHANG2023_BALANCE",
    "ZHANG2023_METRIC",
]

#: ``reproduce liu2020``
LIU2020_NNSTD = """// NNSTD between the aligned snapshots of every pair of runs
MATCH (a:Snapshot)-[n:NNSTD]->(b:Snapshot)
MATCH (ra:Run {run_id: a.run_id}), (rb:Run {run_id: b.run_id})
WHERE ra.name STARTS WITH $prefix AND rb.name STARTS WITH $prefix AND ra <> rb
RETURN ra.name AS run_a, rb.name AS run_b, a.epoch AS epoch, n.distance AS nnstd
ORDER BY run_a, run_b, epoch;"""

#: ``reproduce liu2020``
LIU2020_ACCURACY = """// final accuracy of every run (set, static, dense)
MATCH (r:Run)-[:HAS_SNAPSHOT]->(s:Snapshot {complete: true})
WHERE r.name STARTS WITH $prefix
WITH r, s ORDER BY s.step DESC
WITH r, collect(s)[0] AS last
RETURN r.name AS run, last.accuracy AS accuracy, last.sparsity AS sparsity ORDER BY run;"""

#: ``reproduce zhang2023``
ZHANG2023_BALANCE = """// FFL balance and its sign-shuffled null, every snapshot of every run
MATCH (r:Run)-[:HAS_SNAPSHOT]->(s:Snapshot {complete: true})
WHERE r.name STARTS WITH $prefix
RETURN r.name AS run, s.epoch AS epoch, s.ffl_balance_paper AS ffl_balance_paper,
       s.ffl_balance_null AS null, s.ffl_balance_z AS z
ORDER BY run, epoch;"""

#: ``reproduce zhang2023``
ZHANG2023_METRIC = """// final test metric of every run
MATCH (r:Run)-[:HAS_SNAPSHOT]->(s:Snapshot {complete: true})
WHERE r.name STARTS WITH $prefix
WITH r, s ORDER BY s.step DESC
WITH r, collect(s)[0] AS last
RETURN r.name AS run, last.accuracy AS accuracy, last.nrmse AS nrmse, last.test_loss AS test_loss
ORDER BY run;"""

#: ``reproduce zahn2024``
ZAHN2024_MOTIFS = """// layered motif Z-scores of every optimal (ghost/dead-free) network
MATCH (r:Run)-[:HAS_SNAPSHOT]->(s:Snapshot {complete: true})
WHERE r.name STARTS WITH $prefix
MATCH (s)-[:HAS_MOTIF]->(m:Motif)
RETURN r.name AS run, s.step AS step, m.name AS motif, m.count AS count, m.z AS z,
       m.null_model AS null_model
ORDER BY run, motif;"""

#: ``reproduce zahn2024``
ZAHN2024_EDGES = """// edges left in every optimal network, and the level it was pruned to
MATCH (r:Run)-[:HAS_SNAPSHOT]->(s:Snapshot {complete: true})
WHERE r.name STARTS WITH $prefix
RETURN r.name AS run, s.step AS step, s.n_edges AS n_edges, s.source_sparsity AS level,
       s.test_loss AS test_loss
ORDER BY run;"""

#: ``reproduce mackey2024``
MACKEY2024_ERROR = """// decoded position error (box widths) of every run at its last snapshot
MATCH (r:Run)-[:HAS_SNAPSHOT]->(s:Snapshot {complete: true})
WHERE r.name STARTS WITH $prefix
WITH r, s ORDER BY s.step DESC
WITH r, collect(s)[0] AS last
RETURN r.name AS run, last.position_error AS position_error,
       last.strategy_sparsity AS recurrent_sparsity
ORDER BY run;"""
