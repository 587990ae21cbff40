// The wiring of one layer at one snapshot, exactly as it was, for the Browser's graph view.
// Needs APOC: neurons are virtual nodes labelled by their group (e.g. :Hidden, caption = index),
// synapses virtual relationships :EXCITES (w > 0) or :INHIBITS (w < 0) carrying the exact weight,
// so the Browser's "Connect result nodes" cannot add synapses of other snapshots. The strongest
// synapses (largest |w|) come first. Without APOC use layer_subgraph_plain.
//
// Parameters:
//   run    name of the run
//   step   training step of the snapshot
//   layer  weight-layer name (see layers.cypher), e.g. 'W_rec'
//   limit  at most this many synapses, the strongest first (the Browser slows down beyond a few thousand)
// Columns: source, synapse, target
// :param run => 'zhang-prune';
// :param step => 200;
// :param layer => 'W_rec';
// :param limit => 300;
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
CALL apoc.util.validate(NOT EXISTS { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id, step: toInteger($step)}) WHERE s.complete }, 'run %s has no complete snapshot at step %s; steps: %s', [$run, $step, COLLECT { MATCH (x:Run {name: $run}) MATCH (s:Snapshot {run_id: x.run_id}) WHERE s.complete RETURN s.step ORDER BY s.step }])
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run})-[:HAS_LAYER]->(:Layer {name: $layer}) }, 'run %s has no layer %s; layers: %s', [$run, $layer, COLLECT { MATCH (:Run {name: $run})-[:HAS_LAYER]->(l:Layer) RETURN l.name ORDER BY l.position }])
MATCH (r:Run {name: $run})-[:HAS_LAYER]->(l:Layer {name: $layer})
MATCH (s:Snapshot {run_id: r.run_id, step: toInteger($step)})
WHERE s.complete = true
MATCH (w:WeightBlock {run_id: r.run_id, seq: s.seq})
WHERE w.layer = $layer
UNWIND range(0, size(w.src) - 1) AS x
WITH l, s, w.src[x] AS src, w.dst[x] AS dst, w.w[x] AS weight
ORDER BY abs(weight) DESC, src, dst
LIMIT toInteger($limit)
WITH l, s, collect({src: src, dst: dst, weight: weight}) AS edges
WITH l, s, edges,
     apoc.coll.toSet([e IN edges | [l.src_group, e.src]] + [e IN edges | [l.dst_group, e.dst]]) AS keys
WITH l, s, edges,
     apoc.map.fromLists([k IN keys | k[0] + ':' + toString(k[1])],
       [k IN keys | apoc.create.vNode([apoc.text.capitalize(k[0])],
                                      {name: toString(k[1]), index: k[1], group: k[0]})]) AS nodes
UNWIND edges AS e
WITH l, s, e, nodes[l.src_group + ':' + toString(e.src)] AS a,
     nodes[l.dst_group + ':' + toString(e.dst)] AS b
RETURN a AS source,
       apoc.create.vRelationship(a, CASE WHEN e.weight > 0 THEN 'EXCITES' ELSE 'INHIBITS' END,
         {weight: e.weight, w: round(e.weight, 3), layer: l.name, step: s.step}, b) AS synapse,
       b AS target;
