// A neuron's involvement in unbalanced feed-forward loops over the snapshots of a run: how many
// unbalanced FFLs (i->j, j->k, i->k, negative sign product) it takes part in as source i, middle j
// and target k.
//
// Parameters:
//   run     name of the run
//   layer   a recurrent weight layer, e.g. 'W_rec'
//   neuron  index of the neuron in the layer's group
// Columns: seq, step, as_source, as_middle, as_target, unbalanced_ffl
// :param run => 'zhang-prune';
// :param layer => 'W_rec';
// :param neuron => 0;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run})-[:HAS_LAYER]->(:Layer {name: $layer}) }, 'run %s has no layer %s; layers: %s', [$run, $layer, COLLECT { MATCH (:Run {name: $run})-[:HAS_LAYER]->(l:Layer) RETURN l.name ORDER BY l.position }])
MATCH (r:Run {name: $run})-[:HAS_LAYER]->(l:Layer {name: $layer})
MATCH (n:Neuron {run_id: r.run_id, layer: l.src_group, index: toInteger($neuron)})
MATCH (s:Snapshot {run_id: r.run_id})
WHERE s.complete = true
WITH r.run_id AS rid, n, s.seq AS seq, s.step AS step
CALL (rid, n, seq) {
  OPTIONAL MATCH (n)-[a:SYNAPSE]->(j:Neuron)-[b:SYNAPSE]->(k:Neuron), (n)-[c:SYNAPSE]->(k)
  WHERE a.run_id = rid AND a.layer = $layer AND a.born <= seq AND coalesce(a.died, 2147483647) > seq
    AND b.run_id = rid AND b.layer = $layer AND b.born <= seq AND coalesce(b.died, 2147483647) > seq
    AND c.run_id = rid AND c.layer = $layer AND c.born <= seq AND coalesce(c.died, 2147483647) > seq
    AND n <> j AND j <> k AND n <> k AND a.sign * b.sign * c.sign < 0
  RETURN count(c) AS as_source
}
CALL (rid, n, seq) {
  OPTIONAL MATCH (i:Neuron)-[a:SYNAPSE]->(n)-[b:SYNAPSE]->(k:Neuron), (i)-[c:SYNAPSE]->(k)
  WHERE a.run_id = rid AND a.layer = $layer AND a.born <= seq AND coalesce(a.died, 2147483647) > seq
    AND b.run_id = rid AND b.layer = $layer AND b.born <= seq AND coalesce(b.died, 2147483647) > seq
    AND c.run_id = rid AND c.layer = $layer AND c.born <= seq AND coalesce(c.died, 2147483647) > seq
    AND i <> n AND n <> k AND i <> k AND a.sign * b.sign * c.sign < 0
  RETURN count(c) AS as_middle
}
CALL (rid, n, seq) {
  OPTIONAL MATCH (i:Neuron)-[a:SYNAPSE]->(j:Neuron)-[b:SYNAPSE]->(n), (i)-[c:SYNAPSE]->(n)
  WHERE a.run_id = rid AND a.layer = $layer AND a.born <= seq AND coalesce(a.died, 2147483647) > seq
    AND b.run_id = rid AND b.layer = $layer AND b.born <= seq AND coalesce(b.died, 2147483647) > seq
    AND c.run_id = rid AND c.layer = $layer AND c.born <= seq AND coalesce(c.died, 2147483647) > seq
    AND i <> j AND j <> n AND i <> n AND a.sign * b.sign * c.sign < 0
  RETURN count(c) AS as_target
}
RETURN seq, step, as_source, as_middle, as_target, as_source + as_middle + as_target AS unbalanced_ffl
ORDER BY seq;
