-- Per customer and sales rep, all time, from {source}: the helper (full) or the difference (incremental).
SELECT d.customer_id, d.sales_rep_id, COALESCE(c.name, '') AS customer_name, COALESCE(c.country, '') AS country,
       COALESCE(c.segment, '') AS segment, sum(d.revenue) AS revenue, sum(d.order_count) AS order_count
FROM {source} d
LEFT JOIN canonical_customers c ON c.id = d.customer_id
GROUP BY d.customer_id, d.sales_rep_id, c.name, c.country, c.segment
