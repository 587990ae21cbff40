// The k strongest synapses (largest |w|, from the exact weights) of one neuron at one snapshot.
//
// Parameters:
//   run        name of the run
//   step       training step of the snapshot
//   layer      weight-layer name, e.g. 'W_rec'
//   neuron     index of the neuron
//   direction  'out' (neuron as source), 'in' (as target) or 'both'
//   k          number of synapses
// Columns: direction, src, dst, weight
// :param run => 'zhang-prune';
// :param step => 200;
// :param layer => 'W_rec';
// :param neuron => 0;
// :param direction => 'both';
// :param k => 10;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run})-[:HAS_LAYER]->(:Layer {name: $layer}) }, 'run %s has no layer %s; layers: %s', [$run, $layer, COLLECT { MATCH (:Run {name: $run})-[:HAS_LAYER]->(l:Layer) RETURN l.name ORDER BY l.position }])
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id, step: toInteger($step)})
WHERE s.complete = true
MATCH (w:WeightBlock {run_id: r.run_id, seq: s.seq})
WHERE w.layer = $layer
WITH w.src AS srcs, w.dst AS dsts, w.w AS ws
UNWIND range(0, size(srcs) - 1) AS x
WITH srcs[x] AS src, dsts[x] AS dst, ws[x] AS weight
WHERE (src = toInteger($neuron) AND $direction IN ['out', 'both'])
   OR (dst = toInteger($neuron) AND $direction IN ['in', 'both'])
RETURN CASE WHEN src = toInteger($neuron) AND dst = toInteger($neuron) THEN 'self'
            WHEN src = toInteger($neuron) THEN 'out' ELSE 'in' END AS direction,
       src, dst, round(weight, 4) AS weight
ORDER BY abs(weight) DESC, src, dst
LIMIT toInteger($k);
