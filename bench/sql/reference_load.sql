-- Fill bench_ref's canonical-shaped tables from the staged files (bench_ref.stage_*),
-- resolving references by external id as the execution engine does, then index them like canonical_*.
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL work_mem = '64MB';
INSERT INTO bench_ref.employees (external_id, name, title, team)
SELECT external_id, first_name || ' ' || last_name, title, team FROM bench_ref.stage_employees;

UPDATE bench_ref.employees e SET manager_id = m.id
FROM bench_ref.stage_employees s JOIN bench_ref.employees m ON m.external_id = s.reports_to
WHERE s.external_id = e.external_id;

INSERT INTO bench_ref.customers (external_id, name, segment, country, sales_rep_id)
SELECT s.external_id, s.name, s.segment, s.country, e.id
FROM bench_ref.stage_customers s LEFT JOIN bench_ref.employees e ON e.external_id = s.owner;

INSERT INTO bench_ref.products (external_id, name, category, price, cost)
SELECT external_id, name, category, price, cost FROM bench_ref.stage_products;

INSERT INTO bench_ref.orders (external_id, customer_id, sales_rep_id, order_date, status, amount, currency, shipped_date)
SELECT o.external_id, c.id, e.id, o.order_date, o.status, o.amount, o.currency, o.shipped_date
FROM bench_ref.stage_orders o
LEFT JOIN bench_ref.customers c ON c.external_id = o.customer_ref
LEFT JOIN bench_ref.employees e ON e.external_id = o.sales_rep_ref;

CREATE UNIQUE INDEX ON bench_ref.orders (external_id);

INSERT INTO bench_ref.order_lines (external_id, order_id, product_id, quantity, unit_price, discount, amount)
SELECT l.order_ref || '-' || l.line_no, o.id, p.id, l.quantity, l.unit_price, l.discount, l.amount
FROM bench_ref.stage_order_lines l
JOIN bench_ref.orders o ON o.external_id = l.order_ref
LEFT JOIN bench_ref.products p ON p.external_id = l.product_ref;

-- The indexes canonical_* carries (Django adds one per foreign key, plus the model's Meta.indexes).
CREATE UNIQUE INDEX ON bench_ref.order_lines (external_id);
CREATE INDEX ON bench_ref.orders (customer_id);
CREATE INDEX ON bench_ref.orders (sales_rep_id);
CREATE INDEX ON bench_ref.orders (order_date);
CREATE INDEX ON bench_ref.orders (sales_rep_id, order_date);
CREATE INDEX ON bench_ref.order_lines (order_id);
CREATE INDEX ON bench_ref.order_lines (product_id);
CREATE INDEX ON bench_ref.customers (sales_rep_id);

DROP TABLE bench_ref.stage_orders, bench_ref.stage_employees, bench_ref.stage_customers, bench_ref.stage_products, bench_ref.stage_order_lines;
ANALYZE bench_ref.employees, bench_ref.customers, bench_ref.products, bench_ref.orders, bench_ref.order_lines;
