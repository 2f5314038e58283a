-- Read-side aggregate of sales_rep_performance: every rep's months summed per rep name (an executive's Rep
-- performance read: reps may share a name, whose customers are then counted once). The customer count is left NULL
-- here: the refresh counts it from sales_rep_customers_all_time (registry `distinct_from`).
SELECT rep_name, sum(revenue) AS revenue, sum(order_count) AS order_count, NULL::bigint AS customer_count
FROM {source}
GROUP BY rep_name
