// A neuron's in/out degree and strength (sum of |w| from the exact weights) in one layer over the
// snapshots of a run. Out-edges: the neuron as a source (layer's src_group); in-edges: as a target
// (dst_group). In a recurrent layer both are the same neuron; a self-loop counts in both.
//
// Parameters:
//   run     name of the run
//   layer   weight-layer name, e.g. 'W_rec'
//   neuron  index of the neuron
// Columns: seq, step, in_degree, out_degree, in_strength, out_strength
// :param run => 'zhang-prune';
// :param layer => 'W_rec';
// :param neuron => 0;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run})-[:HAS_LAYER]->(:Layer {name: $layer}) }, 'run %s has no layer %s; layers: %s', [$run, $layer, COLLECT { MATCH (:Run {name: $run})-[:HAS_LAYER]->(l:Layer) RETURN l.name ORDER BY l.position }])
MATCH (r:Run {name: $run})-[:HAS_LAYER]->(l:Layer {name: $layer})
OPTIONAL MATCH (src:Neuron {run_id: r.run_id, layer: l.src_group, index: toInteger($neuron)})
OPTIONAL MATCH (dst:Neuron {run_id: r.run_id, layer: l.dst_group, index: toInteger($neuron)})
CALL (r, src) {
  OPTIONAL MATCH (src)-[e:SYNAPSE]->()
  WHERE e.run_id = r.run_id AND e.layer = $layer
  RETURN collect([e.born, coalesce(e.died, 2147483647)]) AS outs
}
CALL (r, dst) {
  OPTIONAL MATCH ()-[e:SYNAPSE]->(dst)
  WHERE e.run_id = r.run_id AND e.layer = $layer
  RETURN collect([e.born, coalesce(e.died, 2147483647)]) AS ins
}
MATCH (s:Snapshot {run_id: r.run_id})
WHERE s.complete = true
CALL (r, s) {
  OPTIONAL MATCH (w:WeightBlock {run_id: r.run_id, seq: s.seq})
  WHERE w.layer = $layer
  // read each list once, then scan it in memory
  WITH coalesce(w.src, []) AS src, coalesce(w.dst, []) AS dst, coalesce(w.w, []) AS ws
  RETURN sum(reduce(t = 0.0, x IN range(0, size(src) - 1) |
               t + CASE WHEN src[x] = toInteger($neuron) THEN abs(ws[x]) ELSE 0.0 END)) AS out_strength,
         sum(reduce(t = 0.0, x IN range(0, size(dst) - 1) |
               t + CASE WHEN dst[x] = toInteger($neuron) THEN abs(ws[x]) ELSE 0.0 END)) AS in_strength
}
RETURN s.seq AS seq, s.step AS step,
       size([x IN ins WHERE x[0] <= s.seq AND x[1] > s.seq]) AS in_degree,
       size([x IN outs WHERE x[0] <= s.seq AND x[1] > s.seq]) AS out_degree,
       round(in_strength, 4) AS in_strength, round(out_strength, 4) AS out_strength
ORDER BY seq;
