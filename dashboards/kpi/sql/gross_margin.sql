-- Revenue (the rule) minus cost of goods (line quantity x product cost) per month and sales rep.
WITH r AS (
    SELECT r.order_id, r.month, r.sales_rep_id, r.revenue
    FROM kpi_order_revenue r
    WHERE (%(all)s OR (r.order_date >= %(lo)s AND r.order_date < %(hi)s AND r.month = ANY(%(months)s::date[])))
), cogs AS (
    SELECT l.order_id, sum(l.quantity * p.cost) AS cogs
    FROM r
    JOIN canonical_order_lines l ON l.order_id = r.order_id
    JOIN canonical_products p ON p.id = l.product_id
    GROUP BY l.order_id
)
SELECT r.month, r.sales_rep_id,
       sum(r.revenue) AS revenue,
       COALESCE(sum(cogs.cogs), 0) AS cogs,
       sum(r.revenue) - COALESCE(sum(cogs.cogs), 0) AS gross_margin,
       round((sum(r.revenue) - COALESCE(sum(cogs.cogs), 0)) / NULLIF(sum(r.revenue), 0) * 100, 2) AS margin_pct
FROM r
LEFT JOIN cogs ON cogs.order_id = r.order_id
GROUP BY r.month, r.sales_rep_id
