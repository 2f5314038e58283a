-- A prototype, for bench/partitioning.py only (run in a scratch database, never a migration): canonical_orders
-- and canonical_order_lines as monthly range partitions of order_date, rows kept, ids kept.
--
-- What PostgreSQL requires, and what it costs this schema:
-- * A unique constraint on a partitioned table must include the partition key: `external_id` alone cannot be
--   unique any more, only (external_id, order_date). The loads do not rely on ON CONFLICT for orders (the direct
--   load splits new from known identifiers under a SHARE ROW EXCLUSIVE lock), so they still find the row of an
--   identifier; but the database no longer refuses a second row with that identifier in another month, nor two
--   undated placeholders (NULLs are distinct). reference_placeholders.sql's ON CONFLICT (external_id) has no
--   arbiter index any more: a file of lines naming an unknown order fails.
-- * The primary key must include order_date, which is nullable (undated orders, placeholders): no primary key,
--   a plain index on id. Foreign keys to canonical_orders(id) (order lines, invoices, payments) cannot exist, and
--   SQL that groups by o.id alone relying on the key (the kpi_order_revenue view) must name every column.
-- * Lines carry the partition key themselves: a new order_date column, copied from their order; the engine does
--   not write it (new lines land in the default partition until moved), and an order whose date changes must
--   move its lines too.
-- * Bulk loads drop and re-add indexes and foreign keys (ll_bulk_load_begin/_end): a partitioned index's
--   definition reads `ON ONLY`, which would create it on the parent alone, and PostgreSQL 15 cannot add a NOT
--   VALID foreign key to a partitioned table; the functions are replaced below to re-create the indexes on
--   every partition and to add the keys validated (one scan per key inside the load).
SET maintenance_work_mem = '256MB';

DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT conrelid::regclass AS tab, conname FROM pg_constraint
        WHERE contype = 'f' AND confrelid = 'canonical_orders'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', item.tab, item.conname);
    END LOOP;
END $$;

-- Views on the two tables (kpi_order_revenue) are bound to the tables, not their names: saved, dropped and
-- created again on the partitioned tables (deepest first when dropping, in order when creating).
CREATE TEMP TABLE part_saved_views AS
WITH RECURSIVE deps AS (
    SELECT DISTINCT r.ev_class AS view, 1 AS depth
    FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.refobjid IN ('canonical_orders'::regclass, 'canonical_order_lines'::regclass)
      AND r.ev_class NOT IN ('canonical_orders'::regclass, 'canonical_order_lines'::regclass)
    UNION
    SELECT DISTINCT r.ev_class, deps.depth + 1
    FROM deps JOIN pg_depend d ON d.refobjid = deps.view JOIN pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> deps.view
)
SELECT view::regclass::text AS name, max(depth) AS depth, pg_get_viewdef(view) AS definition FROM deps GROUP BY view;
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT name FROM part_saved_views ORDER BY depth DESC LOOP
        EXECUTE format('DROP VIEW %s', item.name);
    END LOOP;
END $$;

ALTER TABLE canonical_orders RENAME TO canonical_orders_plain;
ALTER TABLE canonical_order_lines RENAME TO canonical_order_lines_plain;

CREATE TABLE canonical_orders (LIKE canonical_orders_plain INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE)
PARTITION BY RANGE (order_date);
CREATE TABLE canonical_order_lines (
    LIKE canonical_order_lines_plain INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE,
    order_date date
) PARTITION BY RANGE (order_date);

DO $$
DECLARE
    month date := '2020-01-01';
BEGIN
    WHILE month < '2027-01-01' LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF canonical_orders FOR VALUES FROM (%L) TO (%L)',
            'canonical_orders_' || to_char(month, 'YYYY_MM'), month, month + interval '1 month'
        );
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF canonical_order_lines FOR VALUES FROM (%L) TO (%L)',
            'canonical_order_lines_' || to_char(month, 'YYYY_MM'), month, month + interval '1 month'
        );
        month := month + interval '1 month';
    END LOOP;
END $$;
CREATE TABLE canonical_orders_default PARTITION OF canonical_orders DEFAULT;
CREATE TABLE canonical_order_lines_default PARTITION OF canonical_order_lines DEFAULT;

INSERT INTO canonical_orders OVERRIDING SYSTEM VALUE SELECT * FROM canonical_orders_plain;
INSERT INTO canonical_order_lines OVERRIDING SYSTEM VALUE
SELECT l.*, o.order_date FROM canonical_order_lines_plain l LEFT JOIN canonical_orders_plain o ON o.id = l.order_id;
DROP TABLE canonical_orders_plain, canonical_order_lines_plain;  -- before the indexes: they keep the names
DO $$
BEGIN
    PERFORM setval(pg_get_serial_sequence('canonical_orders', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM canonical_orders), false);
    PERFORM setval(
        pg_get_serial_sequence('canonical_order_lines', 'id'),
        (SELECT coalesce(max(id), 0) + 1 FROM canonical_order_lines),
        false
    );
END $$;

-- The plain tables' indexes, with the partition key added to the unique ones.
ALTER TABLE canonical_orders ADD CONSTRAINT canonical_orders_external_id_key UNIQUE (external_id, order_date);
CREATE INDEX canonical_orders_id_idx ON canonical_orders (id);
CREATE INDEX canonical_orders_customer_id_idx ON canonical_orders (customer_id);
CREATE INDEX orders_order_date_p_idx ON canonical_orders (order_date);
CREATE INDEX orders_sales_rep_p_idx ON canonical_orders (sales_rep_id);
CREATE INDEX order_source_brin_p ON canonical_orders USING brin (source_id);
ALTER TABLE canonical_orders ADD CONSTRAINT canonical_orders_customer_fk FOREIGN KEY (customer_id)
    REFERENCES canonical_customers (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE canonical_orders ADD CONSTRAINT canonical_orders_sales_rep_fk FOREIGN KEY (sales_rep_id)
    REFERENCES canonical_employees (id) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE canonical_order_lines ADD CONSTRAINT canonical_order_lines_external_id_key UNIQUE (external_id, order_date);
CREATE INDEX canonical_order_lines_id_idx ON canonical_order_lines (id);
CREATE INDEX canonical_order_lines_order_id_idx ON canonical_order_lines (order_id);
CREATE INDEX canonical_order_lines_product_id_idx ON canonical_order_lines (product_id);
CREATE INDEX canonical_order_lines_supplier_id_idx ON canonical_order_lines (supplier_id);
CREATE INDEX orderline_source_brin_p ON canonical_order_lines USING brin (source_id);
ALTER TABLE canonical_order_lines ADD CONSTRAINT canonical_order_lines_product_fk FOREIGN KEY (product_id)
    REFERENCES canonical_products (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE canonical_order_lines ADD CONSTRAINT canonical_order_lines_supplier_fk FOREIGN KEY (supplier_id)
    REFERENCES canonical_suppliers (id) DEFERRABLE INITIALLY DEFERRED;

DO $$
DECLARE
    item record;
BEGIN
    -- kpi_order_revenue groups by o.id alone, which PostgreSQL accepts only while id is the primary key (the
    -- other columns depend on it): without one, the order columns it reads are grouped by too.
    FOR item IN SELECT name, definition FROM part_saved_views ORDER BY depth LOOP
        EXECUTE format(
            'CREATE VIEW %s AS %s', item.name,
            regexp_replace(
                item.definition, 'GROUP BY o\.id;?\s*$', 'GROUP BY o.id, o.order_date, o.customer_id, o.sales_rep_id, o.amount'
            )
        );
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION ll_bulk_load_end(target regclass, validate boolean DEFAULT true) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    item record;
    restored integer := 0;
    partitioned boolean := (SELECT relkind = 'p' FROM pg_class WHERE oid = target);
BEGIN
    IF to_regclass('pg_temp.ll_bulk_load_saved') IS NULL THEN
        RETURN 0;
    END IF;
    FOR item IN
        SELECT s.name, replace(s.definition, ' ON ONLY ', ' ON ') AS definition FROM ll_bulk_load_saved s
        WHERE s.target = ll_bulk_load_end.target AND s.kind = 'index' ORDER BY s.name
    LOOP
        EXECUTE item.definition;
        restored := restored + 1;
    END LOOP;
    FOR item IN
        SELECT s.name, regexp_replace(s.definition, '\s+NOT VALID$', '') AS definition FROM ll_bulk_load_saved s
        WHERE s.target = ll_bulk_load_end.target AND s.kind = 'foreign key' ORDER BY s.name
    LOOP
        IF partitioned THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', target, item.name, item.definition);
        ELSE
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', target, item.name, item.definition);
            IF validate THEN
                EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', target, item.name);
            END IF;
        END IF;
        restored := restored + 1;
    END LOOP;
    DELETE FROM ll_bulk_load_saved s WHERE s.target = ll_bulk_load_end.target;
    RETURN restored;
END $$;

VACUUM ANALYZE canonical_orders;
VACUUM ANALYZE canonical_order_lines;
