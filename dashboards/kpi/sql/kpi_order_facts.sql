-- Base of the revenue views: one row per order from kpi_order_revenue (the revenue rule, order lines, cost
-- of goods), stored so that each view groups this narrow table instead of joining and grouping every order
-- line again. Month-partitioned like the views that read it. An order with no date yet (a placeholder that lines
-- point at before their orders file is loaded) belongs to no month: undated_revenue counts it instead.
SELECT r.order_id, r.order_date, r.month, r.customer_id, r.sales_rep_id, r.revenue, r.line_count, r.cogs
FROM kpi_order_revenue r
WHERE (%(all)s AND r.order_date IS NOT NULL
       OR (r.order_date >= %(lo)s AND r.order_date < %(hi)s AND r.month = ANY(%(months)s::date[])))
