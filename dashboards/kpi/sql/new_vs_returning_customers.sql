-- Per month and sales rep: customers whose first order (with anyone) falls in that month vs returning ones.
-- Continues the WITH clause of ctes/new_vs_returning_per_customer.sql (registry `ctes`).
SELECT month, sales_rep_id,
       count(*) FILTER (WHERE is_new) AS new_customers,
       count(*) FILTER (WHERE NOT is_new) AS returning_customers,
       COALESCE(sum(revenue) FILTER (WHERE is_new), 0) AS new_revenue,
       COALESCE(sum(revenue) FILTER (WHERE NOT is_new), 0) AS returning_revenue
FROM per_customer
GROUP BY month, sales_rep_id
