// The wiring of one layer at one snapshot as stored Neuron nodes and SYNAPSE relationships
// (plain Cypher, for servers without APOC).
// Turn off the Browser's "Connect result nodes" (:config autoComplete: false) first, or it
// adds every SYNAPSE ever stored between the returned neurons, including dead ones;
// layer_subgraph (APOC) returns exactly the snapshot instead.
//
// Parameters:
//   run    name of the run
//   step   training step of the snapshot
//   layer  weight-layer name (see layers.cypher), e.g. 'W_rec'
//   limit  at most this many synapses (the Browser slows down beyond a few thousand)
// Columns: source, synapse, target
// :param run => 'zhang-prune';
// :param step => 200;
// :param layer => 'W_rec';
// :param limit => 300;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run})-[:HAS_LAYER]->(:Layer {name: $layer}) }, 'run %s has no layer %s; layers: %s', [$run, $layer, COLLECT { MATCH (:Run {name: $run})-[:HAS_LAYER]->(l:Layer) RETURN l.name ORDER BY l.position }])
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id, step: toInteger($step)})
WHERE s.complete = true
WITH r.run_id AS rid, s.seq AS seq
MATCH (a:Neuron)-[e:SYNAPSE]->(b:Neuron)
WHERE e.run_id = rid AND e.layer = $layer
  AND e.born <= seq AND coalesce(e.died, 2147483647) > seq
RETURN a AS source, e AS synapse, b AS target
LIMIT toInteger($limit);
