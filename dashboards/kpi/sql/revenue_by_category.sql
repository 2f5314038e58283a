-- Line revenue per month, sales rep and product category; orders without lines count their amount as
-- 'Uncategorized' so that the view's total equals monthly_revenue's.
WITH o AS (
    SELECT o.id, date_trunc('month', o.order_date::timestamp)::date AS month,
           COALESCE(o.sales_rep_id, c.sales_rep_id) AS sales_rep_id, o.amount
    FROM canonical_orders o
    LEFT JOIN canonical_customers c ON c.id = o.customer_id
    WHERE (%(all)s OR (o.order_date >= %(lo)s AND o.order_date < %(hi)s
       AND date_trunc('month', o.order_date::timestamp)::date = ANY(%(months)s::date[])))
)
SELECT month, sales_rep_id, category, sum(revenue) AS revenue, sum(quantity) AS quantity
FROM (
    SELECT o.month, o.sales_rep_id, COALESCE(NULLIF(p.category, ''), 'Uncategorized') AS category,
           kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount) AS revenue, l.quantity
    FROM o
    JOIN canonical_order_lines l ON l.order_id = o.id
    LEFT JOIN canonical_products p ON p.id = l.product_id
    UNION ALL
    SELECT o.month, o.sales_rep_id, 'Uncategorized', COALESCE(o.amount, 0), NULL
    FROM o
    WHERE NOT EXISTS (SELECT 1 FROM canonical_order_lines l WHERE l.order_id = o.id)
) x
GROUP BY month, sales_rep_id, category
