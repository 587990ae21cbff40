// One run's history of any stored snapshot statistic (a metric, or an analysis result).
//
// Parameters:
//   run  name of the run
//   key  name of the Snapshot property, e.g. 'sparsity', 'ffl_balance', 'loss'
// Columns: seq, step, value
// :param run => 'zhang-prune';
// :param key => 'sparsity';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id})
WHERE s.complete = true
RETURN s.seq AS seq, s.step AS step,
       CASE WHEN s[$key] IS :: FLOAT THEN round(s[$key], 4) ELSE s[$key] END AS value
ORDER BY seq;
