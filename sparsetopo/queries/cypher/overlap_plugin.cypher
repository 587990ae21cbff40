// Edge overlap and Jaccard index between two snapshots of one run, computed by sparsetopo's server plugin.
// The rows of overlap (per layer, then '*'; the same columns, order and errors), from the
// procedure sparsetopo.overlap, which merges the two snapshots' sorted WeightBlock edge lists
// layer by layer instead of matching relationships. Needs sparsetopo's server plugin (the jar
// that `sparsetopo server install` builds); `sparsetopo query overlap` and
// Store.query('overlap') use it by themselves when the server has the right version of it.
//
// Parameters:
//   run     name of the run
//   step_a  step of snapshot a
//   step_b  step of snapshot b
// Columns: layer, n_a, n_b, shared, only_a, only_b, sign_flips, jaccard
// :param run => 'zhang-prune';
// :param step_a => 100;
// :param step_b => 200;
CALL sparsetopo.overlap($run, $step_a, $step_b)
YIELD layer, n_a, n_b, shared, only_a, only_b, sign_flips, jaccard
RETURN layer, n_a, n_b, shared, only_a, only_b, sign_flips, round(jaccard, 4) AS jaccard;
