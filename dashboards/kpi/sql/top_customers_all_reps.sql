-- Read-side aggregate of top_customers: each customer's rows summed over its sales reps (an executive's
-- ranking). Name, country and segment come from the customer (the same for each rep); min() keeps the key
-- unique whatever happens.
SELECT customer_id, min(customer_name) AS customer_name, min(country) AS country, min(segment) AS segment,
       sum(revenue) AS revenue, sum(order_count) AS order_count
FROM {source}
GROUP BY customer_id
