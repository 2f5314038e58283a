-- Membership of customer_segments: per customer and sales rep who sold to it (a customer without orders under its
-- own rep), its segment, country, orders and revenue. A segment's customer count over several reps is the count
-- of distinct customers of its rows, which summing each rep's count is not. Continues the WITH clause of
-- ctes/customer_segments_per_customer.sql (registry `ctes`).
SELECT segment, country, sales_rep_id, customer_id, order_count, revenue
FROM segmented
