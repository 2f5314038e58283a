-- Everything `accounts.selectors.user_row_scope` needs in one round trip: the user's role names (groups)
-- and, only when those roles make the scope a manager's subtree, the linked employee and everyone below
-- them in the manager_id hierarchy, at any depth. The role rule itself stays in Python (passed in).
-- UNION (not UNION ALL) stops a cycle in bad data from recursing forever.
SELECT r.roles,
       CASE WHEN %(subtree_role)s = ANY(r.roles) AND NOT r.roles && %(all_rows_roles)s::text[] THEN ARRAY(
           WITH RECURSIVE subtree(id) AS (
               SELECT id FROM canonical_employees WHERE id = %(employee_id)s
               UNION
               -- Each level's reports through the manager_id index (LATERAL … OFFSET 0 keeps the lookup per row): a join
               -- let the planner hash every employee per level, 1.15 ms against 0.05 ms for 17 of 5,000 employees.
               SELECT r.id FROM subtree s
               CROSS JOIN LATERAL (SELECT e.id FROM canonical_employees e WHERE e.manager_id = s.id OFFSET 0) r
           )
           SELECT id FROM subtree
       ) END AS subtree
FROM (
    SELECT ARRAY(
        SELECT g.name
        FROM auth_group g
        JOIN accounts_user_groups ug ON ug.group_id = g.id
        WHERE ug.user_id = %(user_id)s
    )::text[] AS roles
) r
