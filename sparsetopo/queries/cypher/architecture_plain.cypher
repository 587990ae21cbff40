// A run's model as a table of its block diagram: for every weight layer, the neuron group it
// reads, the group it writes, and its size, in data-flow order (plain Cypher, for servers
// without APOC; architecture draws the same as a graph).
// A group that appears as the source of several layers branches (attention q, k, v read one
// group), a group written by several layers joins them (a residual stream); source = target
// is a recurrent layer. n_edges counts the layer's edges at the last complete snapshot.
//
// Parameters:
//   run  name of the run
// Columns: source, source_units, layer, kind, gate, target, target_units, position, n_edges
// :param run => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})-[:HAS_LAYER]->(l:Layer)
CALL (r, l) {
  MATCH (s:Snapshot {run_id: r.run_id}) WHERE s.complete = true
  WITH max(s.seq) AS last
  OPTIONAL MATCH (w:WeightBlock {run_id: r.run_id, seq: last}) WHERE w.layer = l.name
  RETURN sum(size(w.src)) AS n_edges
}
RETURN l.src_group AS source, l.n_in AS source_units, l.name AS layer, l.kind AS kind,
       l.gate AS gate, l.dst_group AS target, l.n_out AS target_units, l.position AS position,
       n_edges
ORDER BY position, layer;
