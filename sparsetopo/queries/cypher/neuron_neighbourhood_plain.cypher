// A neuron's synapses in one layer at one snapshot as stored Neuron nodes and SYNAPSE
// relationships (plain Cypher, for servers without APOC).
// Turn off the Browser's "Connect result nodes" (:config autoComplete: false) first, or it adds
// synapses of other snapshots between the returned neurons; neuron_neighbourhood (APOC) returns
// exactly the snapshot, with weights.
//
// Parameters:
//   run     name of the run
//   step    training step of the snapshot
//   layer   weight-layer name, e.g. 'W_rec'
//   neuron  index of the neuron (a source in the layer's source group, a target in its target group)
//   limit   at most this many synapses
// Columns: source, synapse, target
// :param run => 'zhang-prune';
// :param step => 200;
// :param layer => 'W_rec';
// :param neuron => 0;
// :param limit => 100;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run})-[:HAS_LAYER]->(:Layer {name: $layer}) }, 'run %s has no layer %s; layers: %s', [$run, $layer, COLLECT { MATCH (:Run {name: $run})-[:HAS_LAYER]->(l:Layer) RETURN l.name ORDER BY l.position }])
MATCH (r:Run {name: $run})-[:HAS_LAYER]->(l:Layer {name: $layer})
MATCH (s:Snapshot {run_id: r.run_id, step: toInteger($step)})
WHERE s.complete = true
WITH r.run_id AS rid, s.seq AS seq, l
MATCH (a:Neuron)-[e:SYNAPSE]->(b:Neuron)
WHERE e.run_id = rid AND e.layer = $layer
  AND e.born <= seq AND coalesce(e.died, 2147483647) > seq
  AND ((a.layer = l.src_group AND a.index = toInteger($neuron))
       OR (b.layer = l.dst_group AND b.index = toInteger($neuron)))
RETURN a AS source, e AS synapse, b AS target
ORDER BY a.index, b.index
LIMIT toInteger($limit);
