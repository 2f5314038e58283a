-- Team aggregate of order_fulfillment: each month's orders per status summed over the reps of each team (members:
-- the aggregate's hierarchy snapshot; one row per team and member, the manager included). Average days to ship is
-- not additive: a reader divides the summed days by the summed shipped orders, as from order_fulfillment_all_reps.
-- The source's columns are unqualified: it is a table or a subquery with an alias of its own.
SELECT m.team_id, month, status, sum(order_count) AS order_count, sum(shipped_count) AS shipped_count,
       sum(total_days_to_ship) AS total_days_to_ship
FROM {source}
JOIN {members} m ON m.employee_id = sales_rep_id
GROUP BY m.team_id, month, status
