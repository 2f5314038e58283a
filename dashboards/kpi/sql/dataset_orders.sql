-- Orders dataset: the stored order facts (revenue rule, rep: the order's, else the customer's) with the order's own
-- columns, its customer and rep by name, and its attributes. Month-partitioned like the facts it reads.
SELECT f.order_id, o.external_id AS order_number, f.order_date, f.month, o.shipped_date,
       COALESCE(NULLIF(o.status, ''), 'Unknown') AS status, o.currency,
       f.customer_id, COALESCE(c.name, '') AS customer_name, COALESCE(c.country, '') AS customer_country,
       COALESCE(c.city, '') AS customer_city, COALESCE(NULLIF(c.segment, ''), 'Unassigned') AS customer_segment,
       f.sales_rep_id, COALESCE(e.name, 'Unassigned') AS sales_rep_name,
       f.revenue, o.amount, o.shipping_amount, o.tax_amount, o.discount_amount, f.line_count, f.cogs,
       o.attributes
FROM kpi_order_facts f
JOIN canonical_orders o ON o.id = f.order_id
LEFT JOIN canonical_customers c ON c.id = f.customer_id
LEFT JOIN canonical_employees e ON e.id = f.sales_rep_id
WHERE (%(all)s OR (f.order_date >= %(lo)s AND f.order_date < %(hi)s AND f.month = ANY(%(months)s::date[])))
