-- Per month and sales rep: revenue, orders, distinct customers, average order value.
SELECT r.month, r.sales_rep_id, COALESCE(NULLIF(e.name, ''), 'Unassigned') AS rep_name,
       sum(r.revenue) AS revenue,
       count(*) AS order_count,
       count(DISTINCT r.customer_id) AS customer_count,
       round(sum(r.revenue) / count(*), 2) AS avg_order_value
FROM kpi_order_facts r
LEFT JOIN canonical_employees e ON e.id = r.sales_rep_id
WHERE (%(all)s OR (r.order_date >= %(lo)s AND r.order_date < %(hi)s AND r.month = ANY(%(months)s::date[])))
GROUP BY r.month, r.sales_rep_id, e.name
