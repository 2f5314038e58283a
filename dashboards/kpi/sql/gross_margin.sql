-- Revenue (the rule) minus cost of goods (line quantity x product cost) per month and sales rep, from the
-- order facts (each order's revenue and cost of goods).
SELECT r.month, r.sales_rep_id,
       sum(r.revenue) AS revenue,
       COALESCE(sum(r.cogs), 0) AS cogs,
       sum(r.revenue) - COALESCE(sum(r.cogs), 0) AS gross_margin,
       round((sum(r.revenue) - COALESCE(sum(r.cogs), 0)) / NULLIF(sum(r.revenue), 0) * 100, 2) AS margin_pct
FROM kpi_order_facts r
WHERE (%(all)s OR (r.order_date >= %(lo)s AND r.order_date < %(hi)s AND r.month = ANY(%(months)s::date[])))
GROUP BY r.month, r.sales_rep_id
