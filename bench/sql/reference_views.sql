-- Materialized views over the reference tables: what a plain `REFRESH MATERIALIZED VIEW` recomputes.
CREATE MATERIALIZED VIEW bench_ref.mv_monthly_revenue AS
SELECT date_trunc('month', o.order_date)::date AS month,
       o.sales_rep_id,
       sum(l.quantity * l.unit_price * (1 - l.discount))::numeric(14, 2) AS revenue,
       count(DISTINCT o.id) AS order_count
FROM bench_ref.orders o
JOIN bench_ref.order_lines l ON l.order_id = o.id
GROUP BY 1, 2;
CREATE UNIQUE INDEX ON bench_ref.mv_monthly_revenue (month, sales_rep_id);

CREATE MATERIALIZED VIEW bench_ref.mv_top_customers AS
SELECT o.customer_id,
       c.sales_rep_id,
       sum(l.quantity * l.unit_price * (1 - l.discount))::numeric(14, 2) AS revenue,
       count(DISTINCT o.id) AS order_count
FROM bench_ref.orders o
JOIN bench_ref.order_lines l ON l.order_id = o.id
JOIN bench_ref.customers c ON c.id = o.customer_id
GROUP BY 1, 2;
CREATE UNIQUE INDEX ON bench_ref.mv_top_customers (customer_id);
