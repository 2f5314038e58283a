-- Per month and sales rep: customers whose first order (with anyone) falls in that month vs returning ones.
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
SELECT month, sales_rep_id,
       count(*) FILTER (WHERE is_new) AS new_customers,
       count(*) FILTER (WHERE NOT is_new) AS returning_customers,
       COALESCE(sum(revenue) FILTER (WHERE is_new), 0) AS new_revenue,
       COALESCE(sum(revenue) FILTER (WHERE NOT is_new), 0) AS returning_revenue
FROM per_customer
GROUP BY month, sales_rep_id
