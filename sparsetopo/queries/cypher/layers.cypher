// The weight layers of one run (names to pass as $layer to the other queries).
//
// Parameters:
//   run  name of the run
// Columns: layer, kind, src_group, dst_group, n_in, n_out, position
// :param run => 'zhang-prune';
CALL apoc.util.validate(NOT EXISTS { MATCH (:Run {name: $run}) }, 'no run named %s; runs: %s', [$run, COLLECT { MATCH (x:Run) RETURN x.name ORDER BY x.name }])
MATCH (r:Run {name: $run})-[:HAS_LAYER]->(l:Layer)
RETURN l.name AS layer, l.kind AS kind, l.src_group AS src_group, l.dst_group AS dst_group,
       l.n_in AS n_in, l.n_out AS n_out, l.position AS position
ORDER BY position, layer;
