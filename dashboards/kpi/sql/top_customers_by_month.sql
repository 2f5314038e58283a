-- Helper of top_customers: revenue and orders per month, customer and sales rep.
SELECT r.month, r.customer_id, r.sales_rep_id, sum(r.revenue) AS revenue, count(*) AS order_count
FROM kpi_order_facts r
WHERE (%(all)s OR (r.order_date >= %(lo)s AND r.order_date < %(hi)s AND r.month = ANY(%(months)s::date[])))
GROUP BY r.month, r.customer_id, r.sales_rep_id
