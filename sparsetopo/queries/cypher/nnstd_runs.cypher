// The NNSTD between aligned snapshots of two runs, as stored by `sparsetopo analyze RUN_A
// --compare RUN_B` or `sparsetopo compare`.
//
// Parameters:
//   run_a  name of the first run
//   run_b  name of the second run
// Columns: step_a, step_b, distance, per_layer, layers
// :param run_a => 'zhang-prune';
// :param run_b => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run_a}) }, 'no run named %s; runs: %s', [$run_a, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run_b}) }, 'no run named %s; runs: %s', [$run_b, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (ra:Run {name: $run_a})
MATCH (rb:Run {name: $run_b})
MATCH (a:Snapshot {run_id: ra.run_id})-[n:NNSTD]->(b:Snapshot {run_id: rb.run_id})
RETURN a.step AS step_a, b.step AS step_b, round(n.distance, 4) AS distance,
       [x IN n.per_layer | round(x, 4)] AS per_layer,
       n.layers AS layers
ORDER BY step_a, step_b;
