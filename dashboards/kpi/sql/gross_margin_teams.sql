-- Team aggregate of gross_margin: each month's revenue, cost of goods and margin summed over the reps of each team
-- (members: the aggregate's hierarchy snapshot; one row per team and member, the manager included). sum() skips a
-- rep's unknown (NULL) cost of goods as a read summing the reps' rows does. A VP's Gross margin widgets read their
-- team's 60 rows instead of summing 88 reps' at 1M orders.
-- The source's columns are unqualified: it is a table or a subquery with an alias of its own.
SELECT m.team_id, month, sum(revenue) AS revenue, sum(cogs) AS cogs, sum(gross_margin) AS gross_margin
FROM {source}
JOIN {members} m ON m.employee_id = sales_rep_id
GROUP BY m.team_id, month
