// Structural balance over the steps of a run (written by `sparsetopo analyze`).
//
// Parameters:
//   run  name of the run
// Columns: seq, step, sparsity, ffl_balance, ffl_balance_paper, ffl_balance_null, unbalanced_ffl, triangle_unbalanced_fraction, cycle4_balance
// :param run => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id})
WHERE s.complete = true
RETURN s.seq AS seq, s.step AS step, round(s.sparsity, 4) AS sparsity,
       round(s.ffl_balance, 4) AS ffl_balance, round(s.ffl_balance_paper, 4) AS ffl_balance_paper,
       round(s.ffl_balance_null, 4) AS ffl_balance_null, s.unbalanced_ffl AS unbalanced_ffl,
       round(s.triangle_unbalanced_fraction, 4) AS triangle_unbalanced_fraction,
       round(s.cycle4_balance, 4) AS cycle4_balance
ORDER BY seq;
