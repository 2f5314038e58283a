-- What a BI tool without materialization runs for the monthly revenue widget: GROUP BY on the base
-- tables, filtered to the caller's sales reps. Revenue = sum(quantity * unit_price * (1 - discount)).
SELECT date_trunc('month', o.order_date)::date AS month,
       o.sales_rep_id,
       sum(l.quantity * l.unit_price * (1 - l.discount))::numeric(14, 2) AS revenue,
       count(DISTINCT o.id) AS order_count
FROM bench_ref.orders o
JOIN bench_ref.order_lines l ON l.order_id = o.id
WHERE o.sales_rep_id = ANY(%(scope)s)
GROUP BY 1, 2
ORDER BY 1, 2
