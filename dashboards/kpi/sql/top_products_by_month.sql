-- Helper of top_products: line revenue, quantity and lines per month, product and sales rep (month and rep
-- of each order from the order facts).
SELECT f.month, l.product_id, f.sales_rep_id,
       sum(kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount, l.amount_computed)) AS revenue,
       COALESCE(sum(l.quantity), 0) AS quantity,
       count(*) AS line_count
FROM kpi_order_facts f
JOIN canonical_order_lines l ON l.order_id = f.order_id
WHERE (%(all)s OR (f.order_date >= %(lo)s AND f.order_date < %(hi)s AND f.month = ANY(%(months)s::date[])))
GROUP BY 1, 2, 3
