// Motif counts and Z-scores against the null model over the snapshots of a run (written by
// `sparsetopo analyze`).
//
// Parameters:
//   run  name of the run
// Columns: seq, step, motif, count, null_mean, null_sd, z, null_model
// :param run => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id})-[:HAS_MOTIF]->(m:Motif)
WHERE s.complete = true
RETURN s.seq AS seq, s.step AS step, m.name AS motif, m.count AS count,
       m.null_mean AS null_mean, m.null_sd AS null_sd, m.z AS z, m.null_model AS null_model
ORDER BY seq, motif;
