-- Revenue (the rule) minus cost of goods (line quantity x product cost) per month and sales rep, from the
-- order facts. Cost of goods is known for a month and rep only when every order's is (each of its lines has a
-- quantity and a product with a cost: kpi_order_revenue); otherwise it is unknown (NULL), and so are the margin
-- and its percentage. Never 0: Northwind has no product costs, and a cost of 0 would read as a margin of 100 percent.
SELECT m.month, m.sales_rep_id, m.revenue, m.cogs,
       m.revenue - m.cogs AS gross_margin,
       round((m.revenue - m.cogs) / NULLIF(m.revenue, 0) * 100, 2) AS margin_pct
FROM (
    SELECT r.month, r.sales_rep_id,
           sum(r.revenue) AS revenue,
           CASE WHEN count(r.cogs) = count(*) THEN sum(r.cogs) END AS cogs
    FROM kpi_order_facts r
    WHERE (%(all)s OR (r.order_date >= %(lo)s AND r.order_date < %(hi)s AND r.month = ANY(%(months)s::date[])))
    GROUP BY r.month, r.sales_rep_id
) m
