-- A manager's row scope: the manager and everyone below them (what accounts.selectors.user_row_scope gives).
WITH RECURSIVE subtree AS (
    SELECT id FROM bench_ref.employees WHERE id = %(manager_id)s
    UNION ALL
    SELECT e.id FROM bench_ref.employees e JOIN subtree s ON e.manager_id = s.id
)
SELECT array_agg(id ORDER BY id) FROM subtree
