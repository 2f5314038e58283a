-- The employee and everyone below them in the manager_id hierarchy, at any depth.
-- UNION (not UNION ALL) stops a cycle in bad data from recursing forever.
WITH RECURSIVE subtree(id) AS (
    SELECT id FROM canonical_employees WHERE id = %(root_id)s
    UNION
    SELECT e.id FROM canonical_employees e JOIN subtree s ON e.manager_id = s.id
)
SELECT id FROM subtree
