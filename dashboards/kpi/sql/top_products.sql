-- Per product and sales rep, all time, from {source}: the helper (full) or the difference (incremental).
SELECT d.product_id, d.sales_rep_id, COALESCE(p.name, '') AS product_name, COALESCE(p.category, '') AS category,
       sum(d.revenue) AS revenue, sum(d.quantity) AS quantity, sum(d.line_count) AS line_count
FROM {source} d
LEFT JOIN canonical_products p ON p.id = d.product_id
GROUP BY d.product_id, d.sales_rep_id, p.name, p.category
