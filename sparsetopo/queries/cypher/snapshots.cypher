// The snapshots of one run with their sizes, turnover, analysis results and every stored property.
//
// Parameters:
//   run  name of the run
// Columns: seq, step, epoch, n_edges, sparsity, births, deaths, sign_flips, ffl_balance, unbalanced_ffl, cycle4_balance, nnstd_to_first, overlap_prev_jaccard, properties
// :param run => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id})
WHERE s.complete = true
RETURN s.seq AS seq, s.step AS step, s.epoch AS epoch, s.n_edges AS n_edges,
       round(s.sparsity, 4) AS sparsity, s.births AS births, s.deaths AS deaths,
       s.sign_flips AS sign_flips, round(s.ffl_balance, 4) AS ffl_balance,
       s.unbalanced_ffl AS unbalanced_ffl, round(s.cycle4_balance, 4) AS cycle4_balance,
       round(s.nnstd_to_first, 4) AS nnstd_to_first,
       round(s.overlap_prev_jaccard, 4) AS overlap_prev_jaccard,
       apoc.map.fromPairs([k IN keys(s) | [k, CASE WHEN s[k] IS :: FLOAT THEN round(s[k], 4)
                                                   ELSE s[k] END]]) AS properties
ORDER BY seq;
