-- Read-side aggregate of sales_rep_performance: each rep's months summed (a read without a date range). The customer
-- count is left NULL here (months' distinct counts do not add up): the refresh counts it from
-- sales_rep_customers_all_time (registry `distinct_from`).
-- The rep's name is the same in every month (one employee); min() keeps the key unique whatever happens.
SELECT sales_rep_id, min(rep_name) AS rep_name, sum(revenue) AS revenue, sum(order_count) AS order_count,
       NULL::bigint AS customer_count
FROM {source}
GROUP BY sales_rep_id
