-- Helper of top_products: line revenue, quantity and lines per month, product and sales rep.
SELECT date_trunc('month', o.order_date::timestamp)::date AS month, l.product_id,
       COALESCE(o.sales_rep_id, c.sales_rep_id) AS sales_rep_id,
       sum(kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount)) AS revenue,
       COALESCE(sum(l.quantity), 0) AS quantity,
       count(*) AS line_count
FROM canonical_orders o
JOIN canonical_order_lines l ON l.order_id = o.id
LEFT JOIN canonical_customers c ON c.id = o.customer_id
WHERE (%(all)s OR (o.order_date >= %(lo)s AND o.order_date < %(hi)s
       AND date_trunc('month', o.order_date::timestamp)::date = ANY(%(months)s::date[])))
GROUP BY 1, 2, 3
