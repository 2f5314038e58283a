-- The dashboard benchmark's canonical rows, copied from the references' resolved base tables (bench_ref),
-- ids kept, when nothing has been ingested into canonical_* yet (the data API reads KPI views built from
-- these). Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so the manager chain may come in any order.
INSERT INTO canonical_employees (id, external_id, name, title, team, manager_id)
SELECT id, external_id, name, title, team, manager_id FROM bench_ref.employees;
INSERT INTO canonical_customers (id, external_id, name, segment, country, sales_rep_id)
SELECT id, external_id, name, segment, country, sales_rep_id FROM bench_ref.customers;
INSERT INTO canonical_products (id, external_id, name, category, price, cost)
SELECT id, external_id, name, category, price, cost FROM bench_ref.products;
INSERT INTO canonical_orders (id, external_id, customer_id, sales_rep_id, order_date, status, amount, currency, shipped_date)
SELECT id, external_id, customer_id, sales_rep_id, order_date, status, amount, currency, shipped_date FROM bench_ref.orders;
INSERT INTO canonical_order_lines (id, external_id, order_id, product_id, quantity, unit_price, discount, amount)
SELECT id, external_id, order_id, product_id, quantity, unit_price, discount, amount FROM bench_ref.order_lines;
SELECT setval(pg_get_serial_sequence('canonical_employees', 'id'), (SELECT max(id) FROM canonical_employees));
SELECT setval(pg_get_serial_sequence('canonical_customers', 'id'), (SELECT max(id) FROM canonical_customers));
SELECT setval(pg_get_serial_sequence('canonical_products', 'id'), (SELECT max(id) FROM canonical_products));
SELECT setval(pg_get_serial_sequence('canonical_orders', 'id'), (SELECT max(id) FROM canonical_orders));
SELECT setval(pg_get_serial_sequence('canonical_order_lines', 'id'), (SELECT max(id) FROM canonical_order_lines));
