-- employee_subtree(root): the employee and everyone below them in the manager_id hierarchy, at any depth.
-- The one definition of a manager's subtree: a manager's row scope (user_row_scope.sql), the ?team= filter
-- (accounts.selectors.employee_subtree_ids) and the team aggregates' hierarchy (dashboards/sql/kpi_team_snapshot.sql).
-- Created by accounts migration 0004 from this file.
CREATE OR REPLACE FUNCTION employee_subtree(root_id bigint) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- UNION (not UNION ALL) stops a cycle in bad data from recursing forever.
    WITH RECURSIVE subtree(id) AS (
        SELECT id FROM canonical_employees WHERE id = root_id
        UNION
        -- Each level's reports through the manager_id index (LATERAL ... OFFSET 0 keeps the lookup per row):
        -- a join lets the planner hash every employee per level.
        SELECT r.id FROM subtree s
        CROSS JOIN LATERAL (SELECT e.id FROM canonical_employees e WHERE e.manager_id = s.id OFFSET 0) r
    )
    SELECT id FROM subtree
$$
