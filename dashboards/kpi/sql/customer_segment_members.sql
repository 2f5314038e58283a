-- Membership of customer_segments: per customer and sales rep who sold to it (a customer without orders under its
-- own rep), its segment, country, orders and revenue. A segment's customer count over several reps is the count
-- of distinct customers of its rows, which summing each rep's count is not.
WITH per_customer AS (
    SELECT r.customer_id, r.sales_rep_id, count(*) AS order_count, sum(r.revenue) AS revenue
    FROM kpi_order_facts r
    WHERE r.customer_id IS NOT NULL
    GROUP BY r.customer_id, r.sales_rep_id
    UNION ALL
    SELECT c.id, c.sales_rep_id, 0, 0
    FROM canonical_customers c
    WHERE NOT EXISTS (SELECT 1 FROM canonical_orders o WHERE o.customer_id = c.id)
)
SELECT COALESCE(NULLIF(c.segment, ''), 'Unassigned') AS segment,
       COALESCE(NULLIF(c.country, ''), 'Unknown') AS country,
       pc.sales_rep_id, pc.customer_id, pc.order_count, pc.revenue
FROM per_customer pc
JOIN canonical_customers c ON c.id = pc.customer_id
