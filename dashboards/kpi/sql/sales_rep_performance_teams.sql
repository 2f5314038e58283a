-- Team aggregate of sales_rep_performance: per team and rep name, the revenue and orders of all time of the team's
-- reps of that name (members: the aggregate's hierarchy snapshot) and their distinct customers, counted from the
-- all-time pairs of sales_rep_customers_all_time (refreshed before it in the view's transaction; reps sharing a name
-- may share customers). A VP's Rep performance takes their team's stored rows, one per name, not a distinct count
-- over the pairs of every name several of their reps share (hundreds of VP reps at 10M orders). {source}: the view's
-- rows or its per-rep all-time sums (`summed_from`), the same sums. The refresh keeps these rows incrementally
-- (dashboards/services/refresh/aggregates.py, `_team_rows_refresh`).
-- The source's columns are unqualified: it is a table or a subquery with an alias of its own.
WITH sums AS (
    SELECT m.team_id, rep_name, sum(revenue) AS revenue, sum(order_count) AS order_count
    FROM {source}
    JOIN {members} m ON m.employee_id = sales_rep_id
    GROUP BY m.team_id, rep_name
), counts AS (
    SELECT m.team_id, p.rep_name, count(DISTINCT p.customer_id) AS customer_count
    FROM sales_rep_customers_all_time p
    JOIN {members} m ON m.employee_id = p.sales_rep_id
    GROUP BY m.team_id, p.rep_name
)
SELECT s.team_id, s.rep_name, s.revenue, s.order_count, COALESCE(c.customer_count, 0) AS customer_count
FROM sums s
LEFT JOIN counts c ON c.team_id = s.team_id AND c.rep_name IS NOT DISTINCT FROM s.rep_name
