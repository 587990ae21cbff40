// Edge overlap between snapshots as stored by `sparsetopo analyze` (OVERLAP relationships: each
// snapshot to the previous one, and to aligned snapshots of compared runs).
//
// Parameters:
//   run_a  name of the run of the first snapshot
//   run_b  name of the run of the second snapshot (the same name for one run's turnover)
// Columns: step_a, step_b, shared, only_a, only_b, sign_flips, jaccard
// :param run_a => 'zhang-prune';
// :param run_b => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run_a}) }, 'no run named %s; runs: %s', [$run_a, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run_b}) }, 'no run named %s; runs: %s', [$run_b, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (ra:Run {name: $run_a})
MATCH (rb:Run {name: $run_b})
MATCH (a:Snapshot {run_id: ra.run_id})-[o:OVERLAP]->(b:Snapshot {run_id: rb.run_id})
RETURN a.step AS step_a, b.step AS step_b, o.shared AS shared, o.only_a AS only_a,
       o.only_b AS only_b, o.sign_flips AS sign_flips, round(o.jaccard, 4) AS jaccard
ORDER BY step_a, step_b;
