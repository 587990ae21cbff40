// The unbalanced feed-forward loops (i->j, j->k, i->k with a negative sign product) of one layer at
// one snapshot: the neurons involved, the signs and the triad class.
//
// Parameters:
//   run    name of the run
//   step   training step of the snapshot
//   layer  a recurrent weight layer, e.g. 'W_rec'
//   limit  at most this many rows
// Columns: i, j, k, triad_class, sign_ij, sign_jk, sign_ik
// :param run => 'zhang-prune';
// :param step => 200;
// :param layer => 'W_rec';
// :param limit => 100;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run})-[:HAS_LAYER]->(:Layer {name: $layer}) }, 'run %s has no layer %s; layers: %s', [$run, $layer, COLLECT { MATCH (:Run {name: $run})-[:HAS_LAYER]->(l:Layer) RETURN l.name ORDER BY l.position }])
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id, step: toInteger($step)})
WHERE s.complete = true
WITH r.run_id AS rid, s.seq AS seq
// the three alive edge sets come from the index and are joined in memory (hash joins)
MATCH (i:Neuron)-[a:SYNAPSE]->(j:Neuron), (j)-[b:SYNAPSE]->(k:Neuron), (i)-[c:SYNAPSE]->(k)
USING JOIN ON j
USING JOIN ON i, k
WHERE a.run_id = rid AND a.layer = $layer AND a.born <= seq AND coalesce(a.died, 2147483647) > seq
  AND b.run_id = rid AND b.layer = $layer AND b.born <= seq AND coalesce(b.died, 2147483647) > seq
  AND c.run_id = rid AND c.layer = $layer AND c.born <= seq AND coalesce(c.died, 2147483647) > seq
  AND i <> j AND j <> k AND i <> k AND a.sign * b.sign * c.sign < 0
WITH i, j, k, a, b, c,
     EXISTS { MATCH (j)-[q:SYNAPSE]->(i) WHERE q.run_id = rid AND q.layer = $layer
              AND q.born <= seq AND coalesce(q.died, 2147483647) > seq } AS ji,
     EXISTS { MATCH (k)-[q:SYNAPSE]->(j) WHERE q.run_id = rid AND q.layer = $layer
              AND q.born <= seq AND coalesce(q.died, 2147483647) > seq } AS kj,
     EXISTS { MATCH (k)-[q:SYNAPSE]->(i) WHERE q.run_id = rid AND q.layer = $layer
              AND q.born <= seq AND coalesce(q.died, 2147483647) > seq } AS ki
RETURN i.index AS i, j.index AS j, k.index AS k,
       CASE (CASE WHEN ji THEN 1 ELSE 0 END) + (CASE WHEN kj THEN 1 ELSE 0 END)
            + (CASE WHEN ki THEN 1 ELSE 0 END)
         WHEN 0 THEN '030T'
         WHEN 2 THEN '210'
         WHEN 3 THEN '300'
         ELSE CASE WHEN ji THEN '120U' WHEN kj THEN '120D' ELSE '120C' END
       END AS triad_class,
       a.sign AS sign_ij, b.sign AS sign_jk, c.sign AS sign_ik
ORDER BY i, j, k
LIMIT toInteger($limit);
