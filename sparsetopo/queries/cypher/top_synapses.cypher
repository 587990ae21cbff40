// The k strongest synapses (largest |w|, from the exact weights) of one neuron at one snapshot.
//
// Parameters:
//   run        name of the run
//   step       training step of the snapshot
//   layer      weight-layer name, e.g. 'W_rec'
//   neuron     index of the neuron
//   direction  'out' (neuron as source), 'in' (as target) or 'both'
//   k          number of synapses
// Columns: direction, src, dst, weight
// :param run => 'zhang-prune';
// :param step => 200;
// :param layer => 'W_rec';
// :param neuron => 0;
// :param direction => 'both';
// :param k => 10;
MATCH (r:Run {name: $run})
MATCH (s:Snapshot {run_id: r.run_id, step: $step})
WHERE s.complete = true
MATCH (w:WeightBlock {run_id: r.run_id, seq: s.seq})
WHERE w.layer = $layer
WITH w.src AS srcs, w.dst AS dsts, w.w AS ws
UNWIND range(0, size(srcs) - 1) AS x
WITH srcs[x] AS src, dsts[x] AS dst, ws[x] AS weight
WHERE (src = $neuron AND $direction IN ['out', 'both'])
   OR (dst = $neuron AND $direction IN ['in', 'both'])
RETURN CASE WHEN src = $neuron AND dst = $neuron THEN 'self'
            WHEN src = $neuron THEN 'out' ELSE 'in' END AS direction,
       src, dst, weight
ORDER BY abs(weight) DESC, src, dst
LIMIT $k;
