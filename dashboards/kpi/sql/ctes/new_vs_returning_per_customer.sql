-- The WITH clause of new_vs_returning_customers and new_vs_returning_members (registry `ctes`): per month, sales
-- rep and customer, whether the month is the customer's first (with anyone) and its revenue. One rule for both:
-- the view's month rows and the membership its distinct counts come from must call the same customers new.
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
