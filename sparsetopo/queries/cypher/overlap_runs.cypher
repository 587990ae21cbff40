// Edge overlap and Jaccard index between snapshots of two runs with the same architecture, per
// layer (matched by name) and overall ('*'). Neurons are identified by group and index.
// Cost grows with the number of edges of snapshot a (each is looked up in run b).
//
// Parameters:
//   run_a   name of the first run
//   step_a  step of its snapshot
//   run_b   name of the second run
//   step_b  step of its snapshot
// Columns: layer, n_a, n_b, shared, only_a, only_b, sign_flips, jaccard
// :param run_a => 'zhang-prune';
// :param step_a => 100;
// :param run_b => 'zhang-prune';
// :param step_b => 200;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run_a}) }, 'no run named %s; runs: %s', [$run_a, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run_b}) }, 'no run named %s; runs: %s', [$run_b, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run_a}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step_a)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run_a, $step_a, COLLECT { MATCH (x:Run {name: $run_a}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run_b}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step_b)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run_b, $step_b, COLLECT { MATCH (x:Run {name: $run_b}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
MATCH (ra:Run {name: $run_a})
MATCH (rb:Run {name: $run_b})
MATCH (sa:Snapshot {run_id: ra.run_id, step: toInteger($step_a)})
MATCH (sb:Snapshot {run_id: rb.run_id, step: toInteger($step_b)})
WHERE sa.complete = true AND sb.complete = true
MATCH (ra)-[:HAS_LAYER]->(la:Layer)
MATCH (rb)-[:HAS_LAYER]->(lb:Layer)
WHERE lb.name = la.name AND lb.n_in = la.n_in AND lb.n_out = la.n_out
WITH ra.run_id AS ida, rb.run_id AS idb, sa.seq AS qa, sb.seq AS qb, la.name AS layer
CALL (ida, qa, layer) {
  OPTIONAL MATCH (w:WeightBlock {run_id: ida, seq: qa})
  WHERE w.layer = layer
  RETURN coalesce(sum(size(w.src)), 0) AS n_a
}
CALL (idb, qb, layer) {
  OPTIONAL MATCH (w:WeightBlock {run_id: idb, seq: qb})
  WHERE w.layer = layer
  RETURN coalesce(sum(size(w.src)), 0) AS n_b
}
CALL (ida, idb, qa, qb, layer) {
  MATCH (a:Neuron)-[x:SYNAPSE]->(b:Neuron)
  WHERE x.run_id = ida AND x.layer = layer AND x.born <= qa
    AND coalesce(x.died, 2147483647) > qa
  MATCH (a2:Neuron {run_id: idb, layer: a.layer, index: a.index})-[y:SYNAPSE]->(b2:Neuron)
  WHERE b2.index = b.index AND b2.layer = b.layer AND y.layer = layer AND y.born <= qb
    AND coalesce(y.died, 2147483647) > qb
  RETURN count(y) AS shared, count(CASE WHEN y.sign <> x.sign THEN 1 END) AS flips
}
WITH collect({layer: layer, n_a: n_a, n_b: n_b, shared: shared, sign_flips: flips}) AS rows
WITH rows + [{layer: '*', n_a: reduce(t = 0, x IN rows | t + x.n_a),
              n_b: reduce(t = 0, x IN rows | t + x.n_b),
              shared: reduce(t = 0, x IN rows | t + x.shared),
              sign_flips: reduce(t = 0, x IN rows | t + x.sign_flips)}] AS rows
UNWIND rows AS row
RETURN row.layer AS layer, row.n_a AS n_a, row.n_b AS n_b, row.shared AS shared,
       row.n_a - row.shared AS only_a, row.n_b - row.shared AS only_b,
       row.sign_flips AS sign_flips,
       round(CASE WHEN row.n_a + row.n_b - row.shared = 0 THEN 1.0
            ELSE toFloat(row.shared) / (row.n_a + row.n_b - row.shared) END, 4) AS jaccard
ORDER BY layer = '*', layer;
