// The NNSTD (Liu et al. 2020 sparse topology distance) between snapshots of one run, as stored by
// `sparsetopo analyze` (pairs to the first and the previous snapshot; every pair with --nnstd all).
//
// Parameters:
//   run  name of the run
// Columns: step_a, step_b, distance, per_layer, layers
// :param run => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})
MATCH (a:Snapshot {run_id: r.run_id})-[n:NNSTD]->(b:Snapshot {run_id: r.run_id})
RETURN a.step AS step_a, b.step AS step_b, round(n.distance, 4) AS distance,
       [x IN n.per_layer | round(x, 4)] AS per_layer,
       n.layers AS layers
ORDER BY step_a, step_b;
