// Survivors: edges of one layer alive without interruption and with an unchanged sign at every
// snapshot from step_a to step_b.
//
// Parameters:
//   run     name of the run
//   layer   weight-layer name, e.g. 'W_rec'
//   step_a  first step
//   step_b  last step (>= step_a)
// Columns: src, dst, sign, born_seq
// :param run => 'zhang-prune';
// :param layer => 'W_rec';
// :param step_a => 100;
// :param step_b => 200;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step_a)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step_a, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step_b)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step_b, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run})-[:HAS_LAYER]->(:Layer {name: $layer}) }, 'run %s has no layer %s; layers: %s', [$run, $layer, COLLECT { MATCH (:Run {name: $run})-[:HAS_LAYER]->(l:Layer) RETURN l.name ORDER BY l.position }])
MATCH (r:Run {name: $run})
MATCH (sa:Snapshot {run_id: r.run_id, step: toInteger($step_a)})
MATCH (sb:Snapshot {run_id: r.run_id, step: toInteger($step_b)})
WHERE sa.complete = true AND sb.complete = true
WITH r.run_id AS rid, sa.seq AS seq_a, sb.seq AS seq_b
MATCH (a:Neuron)-[e:SYNAPSE]->(b:Neuron)
WHERE e.run_id = rid AND e.layer = $layer
  AND e.born <= seq_a AND coalesce(e.died, 2147483647) > seq_b
RETURN a.index AS src, b.index AS dst, e.sign AS sign, e.born AS born_seq
ORDER BY src, dst;
