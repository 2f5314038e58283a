-- Team aggregate of top_customers: each customer's rows summed over the reps of each team but the top's (members: the
-- aggregate's hierarchy snapshot, which holds first-line teams and the teams above them whose employee has a manager;
-- one row per team and member, the manager included). Name, country and segment come from the customer (the same
-- for each rep); min() keeps the key unique whatever happens.
-- The source's columns are unqualified: it is a table or a subquery with an alias of its own.
SELECT m.team_id, customer_id, min(customer_name) AS customer_name, min(country) AS country,
       min(segment) AS segment, sum(revenue) AS revenue, sum(order_count) AS order_count
FROM {source}
JOIN {members} m ON m.employee_id = sales_rep_id
GROUP BY m.team_id, customer_id
