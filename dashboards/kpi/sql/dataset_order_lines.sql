-- Order lines dataset: each line with its revenue (kpi_line_revenue, the rule), its product, and its order's date,
-- customer and rep from the stored order facts (the order's rep, else the customer's). Month-partitioned by order.
SELECT l.id AS line_id, f.order_id, o.external_id AS order_number, f.order_date, f.month,
       f.customer_id, COALESCE(c.name, '') AS customer_name, COALESCE(c.country, '') AS customer_country,
       f.sales_rep_id, COALESCE(e.name, 'Unassigned') AS sales_rep_name,
       l.product_id, COALESCE(p.name, '') AS product_name,
       COALESCE(NULLIF(p.category, ''), 'Uncategorized') AS product_category,
       l.quantity, l.unit_price, l.discount,
       kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount, l.amount_computed) AS revenue,
       l.quantity * p.cost AS cogs,
       l.attributes
FROM kpi_order_facts f
JOIN canonical_order_lines l ON l.order_id = f.order_id
JOIN canonical_orders o ON o.id = f.order_id
LEFT JOIN canonical_products p ON p.id = l.product_id
LEFT JOIN canonical_customers c ON c.id = f.customer_id
LEFT JOIN canonical_employees e ON e.id = f.sales_rep_id
WHERE (%(all)s OR (f.order_date >= %(lo)s AND f.order_date < %(hi)s AND f.month = ANY(%(months)s::date[])))
