-- Membership of new_vs_returning_customers: per month, sales rep and customer, whether the month is the customer's
-- first (with anyone) and its revenue. Over a range, new customers are the distinct customers whose first month
-- it holds, returning ones the distinct customers ordering in a later month of theirs: months' counts summed
-- would count a customer once per month. Continues the WITH clause of ctes/new_vs_returning_per_customer.sql
-- (registry `ctes`).
SELECT month, sales_rep_id, customer_id, is_new, NOT is_new AS is_returning,
       CASE WHEN is_new THEN revenue ELSE 0 END AS new_revenue,
       CASE WHEN is_new THEN 0 ELSE revenue END AS returning_revenue
FROM per_customer
