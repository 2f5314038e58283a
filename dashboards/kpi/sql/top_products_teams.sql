-- Team aggregate of top_products: each product's rows summed over the reps of each team (members: the
-- aggregate's hierarchy snapshot, one row per team and member, the manager included). Name and category come
-- from the product (the same for each rep); min() keeps the key unique whatever happens.
-- The source's columns are unqualified: it is a table or a subquery with an alias of its own.
SELECT m.team_id, product_id, min(product_name) AS product_name, min(category) AS category,
       sum(revenue) AS revenue, sum(quantity) AS quantity, sum(line_count) AS line_count
FROM {source}
JOIN {members} m ON m.employee_id = sales_rep_id
GROUP BY m.team_id, product_id
