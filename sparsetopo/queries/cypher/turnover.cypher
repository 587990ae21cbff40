// Births, deaths and sign flips of edges per snapshot (compared with the previous snapshot).
// An edge present in both snapshots with a different sign is a sign flip, not a birth and a death.
//
// Parameters:
//   run  name of the run
// Columns: seq, step, n_edges, births, deaths, sign_flips
// :param run => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id})
WHERE s.complete = true
WITH r.run_id AS rid, s
CALL (rid, s) {
  MATCH ()-[x:SYNAPSE]->()
  WHERE x.run_id = rid AND x.born = s.seq
  RETURN count(x) AS started
}
CALL (rid, s) {
  MATCH ()-[y:SYNAPSE]->()
  WHERE y.run_id = rid AND y.died = s.seq
  RETURN count(y) AS ended
}
CALL (rid, s) {
  // a synapse ending where one of the same pair and layer starts: the sign changed
  // (both sets come from the indexes and are joined in memory)
  MATCH (a)-[y:SYNAPSE]->(b), (a)-[x:SYNAPSE]->(b)
  USING JOIN ON a, b
  WHERE y.run_id = rid AND y.died = s.seq AND x.run_id = rid AND x.born = s.seq
    AND x.layer = y.layer
  RETURN count(x) AS flips
}
RETURN s.seq AS seq, s.step AS step, s.n_edges AS n_edges, started - flips AS births,
       ended - flips AS deaths, flips AS sign_flips
ORDER BY seq;
