-- The WITH clause of customer_segments and customer_segment_members (registry `ctes`): per customer and sales rep
-- who sold to it (a customer without orders under its own rep), its segment, country, orders and revenue. One rule
-- for both: the view's rows and the membership its distinct customer counts come from must group alike.
WITH per_customer AS (
    SELECT r.customer_id, r.sales_rep_id, count(*) AS order_count, sum(r.revenue) AS revenue
    FROM kpi_order_facts r
    WHERE r.customer_id IS NOT NULL
    GROUP BY r.customer_id, r.sales_rep_id
    UNION ALL
    SELECT c.id, c.sales_rep_id, 0, 0
    FROM canonical_customers c
    WHERE NOT EXISTS (SELECT 1 FROM canonical_orders o WHERE o.customer_id = c.id)
), segmented AS (
    SELECT COALESCE(NULLIF(c.segment, ''), 'Unassigned') AS segment,
           COALESCE(NULLIF(c.country, ''), 'Unknown') AS country,
           pc.sales_rep_id, pc.customer_id, pc.order_count, pc.revenue
    FROM per_customer pc
    JOIN canonical_customers c ON c.id = pc.customer_id
)
