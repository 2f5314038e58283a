-- Membership of new_vs_returning_customers: per month, sales rep and customer, whether the month is the customer's
-- first (with anyone) and its revenue. Over a range, new customers are the distinct customers whose first month
-- it holds, returning ones the distinct customers ordering in a later month of theirs: months' counts summed
-- would count a customer once per month.
WITH first_order AS (
    SELECT customer_id, min(order_date) AS first_date
    FROM canonical_orders
    WHERE customer_id IS NOT NULL AND order_date IS NOT NULL
    GROUP BY customer_id
), per_customer AS (
    SELECT r.month, r.sales_rep_id, r.customer_id,
           date_trunc('month', f.first_date::timestamp)::date = r.month AS is_new,
           sum(r.revenue) AS revenue
    FROM kpi_order_facts r
    JOIN first_order f ON f.customer_id = r.customer_id
    WHERE r.month IS NOT NULL
    GROUP BY r.month, r.sales_rep_id, r.customer_id, f.first_date
)
SELECT month, sales_rep_id, customer_id, is_new, NOT is_new AS is_returning,
       CASE WHEN is_new THEN revenue ELSE 0 END AS new_revenue,
       CASE WHEN is_new THEN 0 ELSE revenue END AS returning_revenue
FROM per_customer
