// Every run with its snapshot count, step range and sparsity range.
//
// Parameters: none
// Columns: run, run_id, status, model, task, strategy, snapshots, first_step, last_step, min_sparsity, max_sparsity, created_at
MATCH (r:Run)
WHERE coalesce(r.status, '') <> 'deleting'
OPTIONAL MATCH (r)-[:HAS_SNAPSHOT]->(s:Snapshot)
WHERE s.complete = true
WITH r, count(s) AS snapshots, min(s.step) AS first_step, max(s.step) AS last_step,
     min(s.sparsity) AS min_sparsity, max(s.sparsity) AS max_sparsity
RETURN r.name AS run, r.run_id AS run_id, r.status AS status, r.model AS model, r.task AS task,
       r.strategy AS strategy, snapshots, first_step, last_step,
       round(min_sparsity, 4) AS min_sparsity, round(max_sparsity, 4) AS max_sparsity,
       r.created_at AS created_at
ORDER BY created_at, run;
