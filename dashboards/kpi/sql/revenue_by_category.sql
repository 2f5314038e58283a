-- Line revenue per month, sales rep and product category; orders without lines count their amount as
-- 'Uncategorized' so that the view's total equals monthly_revenue's. Month, rep and an order's revenue
-- without lines come from the order facts (kpi_order_revenue stored), so only the lines are joined here.
WITH f AS (
    SELECT f.order_id, f.month, f.sales_rep_id, f.revenue, f.line_count
    FROM kpi_order_facts f
    WHERE (%(all)s OR (f.order_date >= %(lo)s AND f.order_date < %(hi)s AND f.month = ANY(%(months)s::date[])))
)
SELECT month, sales_rep_id, category, sum(revenue) AS revenue, sum(quantity) AS quantity
FROM (
    SELECT f.month, f.sales_rep_id, COALESCE(NULLIF(p.category, ''), 'Uncategorized') AS category,
           kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount, l.amount_computed) AS revenue, l.quantity
    FROM f
    JOIN canonical_order_lines l ON l.order_id = f.order_id
    LEFT JOIN canonical_products p ON p.id = l.product_id
    UNION ALL
    SELECT f.month, f.sales_rep_id, 'Uncategorized', f.revenue, NULL
    FROM f
    WHERE f.line_count = 0
) x
GROUP BY month, sales_rep_id, category
