-- The order facts (kpi_order_facts.sql) of the orders %(order_ids)s only. The condition is on the view's
-- grouping key, so PostgreSQL applies it inside kpi_order_revenue: each order is found by its primary key and
-- only its own lines are joined. An order with no date yet has no facts (kpi_order_facts.sql).
SELECT r.order_id, r.order_date, r.month, r.customer_id, r.sales_rep_id, r.revenue, r.line_count, r.cogs
FROM kpi_order_revenue r
WHERE r.order_id = ANY(%(order_ids)s::bigint[]) AND r.order_date IS NOT NULL
