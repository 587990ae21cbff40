// Edge overlap and Jaccard index between two snapshots of one run, per layer and overall ('*').
// An edge is a (source, target) pair; a shared edge whose sign differs counts as shared and as a
// sign flip. only_a: edges of snapshot a missing from b; only_b: the converse. Plain Cypher (no
// plugin needed); on a server with sparsetopo's plugin, overlap_plugin returns the same rows
// faster, and `sparsetopo query overlap` uses it by itself.
//
// Parameters:
//   run     name of the run
//   step_a  step of snapshot a
//   step_b  step of snapshot b
// Columns: layer, n_a, n_b, shared, only_a, only_b, sign_flips, jaccard
// :param run => 'zhang-prune';
// :param step_a => 100;
// :param step_b => 200;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step_a)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step_a, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step_b)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step_b, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
MATCH (r:Run {name: $run})
MATCH (sa:Snapshot {run_id: r.run_id, step: toInteger($step_a)})
MATCH (sb:Snapshot {run_id: r.run_id, step: toInteger($step_b)})
WHERE sa.complete = true AND sb.complete = true
WITH r, sa.seq <= sb.seq AS forward,
     CASE WHEN sa.seq <= sb.seq THEN sa.seq ELSE sb.seq END AS lo,
     CASE WHEN sa.seq <= sb.seq THEN sb.seq ELSE sa.seq END AS hi
MATCH (r)-[:HAS_LAYER]->(l:Layer)
WITH r.run_id AS rid, forward, lo, hi, l.name AS layer
CALL (rid, lo, layer) {
  // edge counts come from the exact-weight blocks (one small node per layer and snapshot)
  OPTIONAL MATCH (w:WeightBlock {run_id: rid, seq: lo})
  WHERE w.layer = layer
  RETURN coalesce(sum(size(w.src)), 0) AS n_lo
}
CALL (rid, hi, layer) {
  OPTIONAL MATCH (w:WeightBlock {run_id: rid, seq: hi})
  WHERE w.layer = layer
  RETURN coalesce(sum(size(w.src)), 0) AS n_hi
}
CALL (rid, lo, hi, layer) {
  // synapses alive at lo that ended in (lo, hi]: the only candidates for not being shared
  MATCH ()-[x:SYNAPSE]->()
  WHERE x.run_id = rid AND x.died > lo AND x.died <= hi AND x.born <= lo AND x.layer = layer
  RETURN count(x) AS ended
}
CALL (rid, lo, hi, layer) {
  // pairs that ended and are alive again at hi (re-grown, or with a flipped sign): a synapse
  // born in (lo, hi] and alive at hi on the same pair; both sets come from the indexes and are
  // joined in memory
  MATCH (a)-[x:SYNAPSE]->(b), (a)-[y:SYNAPSE]->(b)
  USING JOIN ON a, b
  WHERE x.run_id = rid AND x.died > lo AND x.died <= hi AND x.born <= lo AND x.layer = layer
    AND y.run_id = rid AND y.born > lo AND y.born <= hi AND coalesce(y.died, 2147483647) > hi
    AND y.layer = layer
  RETURN count(y) AS back, count(CASE WHEN y.sign <> x.sign THEN 1 END) AS flips
}
WITH layer, forward, n_lo, n_hi, n_lo - ended + back AS shared, flips
WITH collect({layer: layer, n_a: CASE WHEN forward THEN n_lo ELSE n_hi END,
              n_b: CASE WHEN forward THEN n_hi ELSE n_lo END, shared: shared,
              sign_flips: flips}) AS rows
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
