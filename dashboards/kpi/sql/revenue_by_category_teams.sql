-- Team aggregate of revenue_by_category: each month's rows summed per category over the reps of each team (members:
-- the aggregate's hierarchy snapshot, every employee with reports; one row per team and member, the manager
-- included). A VP's Revenue by category widget reads its team's rows instead of summing 88 reps' at 1M orders.
-- The source's columns are unqualified: it is a table or a subquery with an alias of its own.
SELECT m.team_id, month, category, sum(revenue) AS revenue, sum(quantity) AS quantity
FROM {source}
JOIN {members} m ON m.employee_id = sales_rep_id
GROUP BY m.team_id, month, category
