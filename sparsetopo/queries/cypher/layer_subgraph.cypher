// The wiring of one layer at one snapshot, as nodes and relationships for the Browser's graph view.
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
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id, step: $step})
WHERE s.complete = true
WITH r.run_id AS rid, s.seq AS seq
MATCH (a:Neuron)-[e:SYNAPSE]->(b:Neuron)
WHERE e.run_id = rid AND e.layer = $layer
  AND e.born <= seq AND coalesce(e.died, 2147483647) > seq
RETURN a AS source, e AS synapse, b AS target
LIMIT $limit;
