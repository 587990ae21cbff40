// The unbalanced feed-forward loops of one layer at one snapshot as a graph: the neurons and the
// synapses that form them, exactly as they were at that step.
// Needs APOC (virtual nodes labelled by group, virtual :EXCITES / :INHIBITS relationships with the
// exact weight, one per synapse even when it belongs to several loops). Without APOC use the
// ffl_unbalanced table.
//
// Parameters:
//   run    name of the run
//   step   training step of the snapshot
//   layer  a recurrent weight layer, e.g. 'W_rec'
//   limit  at most this many loops (in the order of ffl_unbalanced)
// Columns: source, synapse, target
// :param run => 'zhang-prune';
// :param step => 200;
// :param layer => 'W_rec';
// :param limit => 25;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run})-[:HAS_LAYER]->(:Layer {name: $layer}) }, 'run %s has no layer %s; layers: %s', [$run, $layer, COLLECT { MATCH (:Run {name: $run})-[:HAS_LAYER]->(l:Layer) RETURN l.name ORDER BY l.position }])
MATCH (r:Run {name: $run})-[:HAS_LAYER]->(l:Layer {name: $layer})
MATCH (s:Snapshot {run_id: r.run_id, step: toInteger($step)})
WHERE s.complete = true
WITH r.run_id AS rid, s.seq AS seq, s.step AS step, l
MATCH (i:Neuron)-[a:SYNAPSE]->(j:Neuron), (j)-[b:SYNAPSE]->(k:Neuron), (i)-[c:SYNAPSE]->(k)
USING JOIN ON j
USING JOIN ON i, k
WHERE a.run_id = rid AND a.layer = $layer AND a.born <= seq AND coalesce(a.died, 2147483647) > seq
  AND b.run_id = rid AND b.layer = $layer AND b.born <= seq AND coalesce(b.died, 2147483647) > seq
  AND c.run_id = rid AND c.layer = $layer AND c.born <= seq AND coalesce(c.died, 2147483647) > seq
  AND i <> j AND j <> k AND i <> k AND a.sign * b.sign * c.sign < 0
WITH rid, seq, step, l, i.index AS i, j.index AS j, k.index AS k
ORDER BY i, j, k
LIMIT toInteger($limit)
WITH rid, seq, step, l,
     apoc.coll.toSet(collect(toString(i) + ':' + toString(j)) + collect(toString(j) + ':' + toString(k))
                     + collect(toString(i) + ':' + toString(k))) AS pairs
WITH rid, seq, step, l, apoc.map.fromLists(pairs, pairs) AS wanted
MATCH (w:WeightBlock {run_id: rid, seq: seq})
WHERE w.layer = $layer
UNWIND range(0, size(w.src) - 1) AS x
WITH step, l, wanted, w.src[x] AS src, w.dst[x] AS dst, w.w[x] AS weight
WHERE wanted[toString(src) + ':' + toString(dst)] IS NOT NULL
WITH step, l, collect({src: src, dst: dst, weight: weight}) AS edges
WITH step, l, edges, apoc.coll.toSet([e IN edges | e.src] + [e IN edges | e.dst]) AS keys
WITH step, l, edges,
     apoc.map.fromLists([k IN keys | toString(k)],
       [k IN keys | apoc.create.vNode([apoc.text.capitalize(l.src_group)],
                                      {name: toString(k), index: k, group: l.src_group})]) AS nodes
UNWIND edges AS e
WITH step, l, e, nodes[toString(e.src)] AS a, nodes[toString(e.dst)] AS b
RETURN a AS source,
       apoc.create.vRelationship(a, CASE WHEN e.weight > 0 THEN 'EXCITES' ELSE 'INHIBITS' END,
         {weight: e.weight, w: round(e.weight, 3), layer: l.name, step: step}, b) AS synapse,
       b AS target
ORDER BY source.index, target.index;
