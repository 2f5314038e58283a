-- Revenue of the orders with no date yet: placeholders that order lines point at before their orders file is
-- loaded. They belong to no month, so the month views leave them out (kpi_order_facts.sql); a widget of
-- monthly_revenue says how much revenue and how many lines wait for their order (its `undated` view).
-- The condition is on kpi_order_revenue's grouping key and an array computed first (found by the order-date
-- index), so PostgreSQL applies it inside the view: only the undated orders and their lines are read. An IN
-- (subquery) is a join there, after every order was grouped.
SELECT r.sales_rep_id, sum(r.revenue) AS revenue, count(*) AS order_count, sum(r.line_count) AS line_count
FROM kpi_order_revenue r
WHERE r.order_id = ANY(ARRAY(SELECT o.id FROM canonical_orders o WHERE o.order_date IS NULL))
GROUP BY r.sales_rep_id
