-- Append %(orders)s new orders (1 to 3 lines each) dated in %(month)s, from random existing customers, written
-- by the data source %(source_id)s as an execution would stamp them (provenance: the refresh finds them by it).
SELECT setseed(%(seed)s);
CREATE TEMP TABLE bench_customers ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, sales_rep_id FROM canonical_customers;
CREATE UNIQUE INDEX ON bench_customers (n);
CREATE TEMP TABLE bench_products ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, price FROM canonical_products;
CREATE TEMP TABLE bench_new ON COMMIT DROP AS
WITH inserted AS (
    INSERT INTO canonical_orders (external_id, is_placeholder, status, currency, order_date, shipped_date, customer_id,
                                  sales_rep_id, amount, amount_from_lines, source_id, source_row)
    SELECT 'KA' || g, false, 'open', 'USD', %(month)s::date + floor(random() * 28)::int, NULL, c.id, c.sales_rep_id,
           NULL, true, %(source_id)s, g
    FROM (SELECT g, floor(random() * (SELECT count(*) FROM bench_customers))::int AS c
          FROM generate_series(1, %(orders)s) g) x
    JOIN bench_customers c ON c.n = x.c
    RETURNING id
)
SELECT id FROM inserted;
INSERT INTO canonical_order_lines (external_id, is_placeholder, order_id, product_id, quantity, unit_price, discount,
                                   source_id)
SELECT 'KAL' || o.id || '-' || k, false, o.id, p.id, 1 + floor(random() * 20), p.price, 0, %(source_id)s
FROM bench_new o
CROSS JOIN LATERAL generate_series(1, 1 + (o.id %% 3)::int) k
JOIN bench_products p ON p.n = (o.id * 7 + k * 13) %% 1000;
ANALYZE canonical_orders, canonical_order_lines;
