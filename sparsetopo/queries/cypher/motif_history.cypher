// Motif counts and Z-scores against the null model over the snapshots of a run (written by
// `sparsetopo analyze`).
//
// Parameters:
//   run  name of the run
// Columns: seq, step, motif, count, null_mean, null_sd, z, z_se, null_model
// :param run => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id})-[:HAS_MOTIF]->(m:Motif)
WHERE s.complete = true
RETURN s.seq AS seq, s.step AS step, m.name AS motif, m.count AS count,
       round(m.null_mean, 4) AS null_mean, round(m.null_sd, 4) AS null_sd, round(m.z, 4) AS z,
       round(m.z_se, 4) AS z_se, m.null_model AS null_model
ORDER BY seq, motif;
