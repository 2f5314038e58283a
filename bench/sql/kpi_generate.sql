-- Seeded KPI benchmark data straight in the canonical tables (generate_series): %(orders)s orders over
-- 120 months (2015-01 .. 2024-12), 1 to 3 lines each, %(customers)s customers each owned by one of 90 reps
-- under 10 managers, 1000 products. Customers' orders are sold by their owner.
SELECT setseed(%(seed)s);
TRUNCATE canonical_order_lines, canonical_orders, canonical_customers, canonical_products CASCADE;
INSERT INTO canonical_employees (external_id, is_placeholder, name, email, title, team, manager_id)
SELECT 'KE' || g, false, 'Bench employee ' || g, '', CASE WHEN g = 0 THEN 'VP Sales' WHEN g <= 10 THEN 'Sales Manager'
       ELSE 'Sales Representative' END, '', NULL
FROM generate_series(0, 100) g
ON CONFLICT (external_id) DO NOTHING;
UPDATE canonical_employees e SET manager_id = m.id
FROM canonical_employees m
WHERE e.external_id LIKE 'KE%%' AND e.external_id <> 'KE0'
  AND m.external_id = CASE WHEN substr(e.external_id, 3)::int <= 10 THEN 'KE0'
                           ELSE 'KE' || (1 + (substr(e.external_id, 3)::int - 11) / 9) END;
CREATE TEMP TABLE bench_reps ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM canonical_employees
WHERE external_id LIKE 'KE%%' AND substr(external_id, 3)::int > 10;
INSERT INTO canonical_customers (external_id, is_placeholder, name, email, phone, segment, country, city, sales_rep_id)
SELECT 'KC' || g, false, 'Customer ' || g, '', '', (ARRAY['Enterprise', 'Mid-market', 'SMB', 'Consumer'])[1 + g %% 4],
       (ARRAY['US', 'DE', 'FR', 'UK', 'ES', 'IT', 'BR', 'CA', 'MX', 'JP'])[1 + (g * 7) %% 10], '', r.id
FROM generate_series(1, %(customers)s) g
JOIN bench_reps r ON r.n = g %% 90;
INSERT INTO canonical_products (external_id, is_placeholder, name, category, price, cost)
SELECT 'KP' || g, false, 'Product ' || g,
       (ARRAY['Beverages', 'Condiments', 'Confections', 'Dairy', 'Grains', 'Meat', 'Produce', 'Seafood'])[1 + g %% 8],
       5 + g %% 100, round((5 + g %% 100) * 0.62, 2)
FROM generate_series(1, 1000) g;
CREATE TEMP TABLE bench_customers ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, sales_rep_id FROM canonical_customers;
CREATE UNIQUE INDEX ON bench_customers (n);
CREATE TEMP TABLE bench_products ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, price FROM canonical_products;
INSERT INTO canonical_orders (external_id, is_placeholder, status, currency, order_date, shipped_date, customer_id,
                              sales_rep_id, amount, amount_from_lines)
SELECT 'KO' || g, false, CASE WHEN x.d < 3500 THEN 'shipped' ELSE 'open' END, 'USD',
       date '2015-01-01' + x.d, CASE WHEN x.d < 3500 THEN date '2015-01-01' + x.d + 1 + g %% 9 END,
       c.id, c.sales_rep_id, NULL, true
FROM (SELECT g, floor(random() * 3653)::int AS d, floor(random() * %(customers)s)::int AS c FROM generate_series(1, %(orders)s) g) x
JOIN bench_customers c ON c.n = x.c;
INSERT INTO canonical_order_lines (external_id, is_placeholder, order_id, product_id, quantity, unit_price, discount)
SELECT 'KL' || o.id || '-' || k, false, o.id, p.id, 1 + floor(random() * 20), p.price,
       CASE WHEN random() < 0.2 THEN 0.1 ELSE 0 END
FROM canonical_orders o
CROSS JOIN LATERAL generate_series(1, 1 + (o.id %% 3)::int) k
JOIN bench_products p ON p.n = (o.id * 7 + k * 13) %% 1000;
ANALYZE canonical_employees, canonical_customers, canonical_products, canonical_orders, canonical_order_lines;
