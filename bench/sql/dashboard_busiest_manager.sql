-- The sales manager with the most orders below them, and their rep with the most orders.
WITH per_rep AS (
    SELECT o.sales_rep_id AS rep_id, count(*) AS orders FROM canonical_orders o GROUP BY o.sales_rep_id
), per_manager AS (
    SELECT e.manager_id, sum(p.orders) AS orders
    FROM per_rep p JOIN canonical_employees e ON e.id = p.rep_id
    WHERE e.manager_id IS NOT NULL GROUP BY e.manager_id
), manager AS (
    SELECT manager_id FROM per_manager ORDER BY orders DESC, manager_id LIMIT 1
)
SELECT m.manager_id,
       (SELECT p.rep_id FROM per_rep p JOIN canonical_employees e ON e.id = p.rep_id
        WHERE e.manager_id = m.manager_id ORDER BY p.orders DESC, p.rep_id LIMIT 1) AS rep_id
FROM manager m
