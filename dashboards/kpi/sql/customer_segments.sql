-- Customers, orders and revenue per segment, country and sales rep. A customer counts under each rep who
-- sold to it; a customer without orders counts under its own rep. Continues the WITH clause of
-- ctes/customer_segments_per_customer.sql (registry `ctes`).
SELECT segment, country, sales_rep_id,
       count(DISTINCT customer_id) AS customer_count,
       sum(order_count) AS order_count,
       sum(revenue) AS revenue
FROM segmented
GROUP BY 1, 2, 3
