-- Membership of sales_rep_performance: per month, sales rep and customer, the orders and revenue. A date range's
-- customer count is the count of distinct customers over its rows, which summing months' counts is not.
SELECT r.month, r.sales_rep_id, COALESCE(NULLIF(e.name, ''), 'Unassigned') AS rep_name, r.customer_id,
       sum(r.revenue) AS revenue,
       count(*) AS order_count
FROM kpi_order_facts r
LEFT JOIN canonical_employees e ON e.id = r.sales_rep_id
WHERE (%(all)s OR (r.order_date >= %(lo)s AND r.order_date < %(hi)s AND r.month = ANY(%(months)s::date[])))
GROUP BY r.month, r.sales_rep_id, e.name, r.customer_id
