-- Team aggregate of monthly_revenue: each month's rows summed over the reps of each team (members: the aggregate's
-- hierarchy snapshot, every employee with reports; one row per team and member, the manager included). A VP's
-- Monthly revenue widget reads its team's 60 rows instead of summing 88 reps' 4,560 at 1M orders.
-- The source's columns are unqualified: it is a table or a subquery with an alias of its own.
SELECT m.team_id, month, sum(revenue) AS revenue, sum(order_count) AS order_count
FROM {source}
JOIN {members} m ON m.employee_id = sales_rep_id
GROUP BY m.team_id, month
