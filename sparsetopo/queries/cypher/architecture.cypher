// A run's model as a block diagram: neuron groups as nodes, weight layers as relationships.
// Needs APOC: every neuron group is a virtual :Group node (caption = name, units = its size),
// every weight layer a virtual relationship from the group it reads to the group it writes,
// typed by its kind (:CONV, :LINEAR, :RECURRENT, ...; a recurrent layer is a loop, a residual
// stream a group that many layers read and write) and carrying name, gate, n_in, n_out,
// position and the number of edges at the run's last complete snapshot (n_edges). Without APOC
// use architecture_plain.
//
// Parameters:
//   run  name of the run
// Columns: source, layer, target
// :param run => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})-[:HAS_LAYER]->(l:Layer)
OPTIONAL MATCH (s:Snapshot {run_id: r.run_id}) WHERE s.complete = true
WITH r, collect(l) AS layers, max(s.seq) AS last
CALL (r, last) {
  OPTIONAL MATCH (w:WeightBlock {run_id: r.run_id, seq: last})
  RETURN apoc.map.fromPairs(collect([w.layer, size(w.src)])) AS counts
}
WITH layers, counts,
     apoc.coll.toSet([l IN layers | [l.src_group, l.n_in]] + [l IN layers | [l.dst_group, l.n_out]]) AS groups
WITH layers, counts,
     apoc.map.fromLists([g IN groups | g[0]],
       [g IN groups | apoc.create.vNode(['Group'], {name: g[0], units: g[1], index: g[0]})]) AS nodes
UNWIND layers AS l
WITH l, counts, nodes[l.src_group] AS a, nodes[l.dst_group] AS b
ORDER BY l.position, l.name
RETURN a AS source,
       apoc.create.vRelationship(a, toUpper(l.kind),
         {name: l.name, w: l.name, kind: l.kind, gate: l.gate, n_in: l.n_in, n_out: l.n_out,
          position: l.position, n_edges: counts[l.name]}, b) AS layer,
       b AS target;
