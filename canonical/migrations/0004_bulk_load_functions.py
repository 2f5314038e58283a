"""Set-wise checks for bulk loads: ll_bulk_load_begin / ll_bulk_load_end (used by mappings/services/upsert.py).

A bulk load (an execution inserting many rows relative to a table's size) would otherwise pay, per row,
one deferred foreign-key trigger per reference (run at commit) and one insertion into every secondary
index. Inside the load's transaction `ll_bulk_load_begin(table)` drops the table's foreign keys and its
non-unique indexes, remembering their definitions (from the catalog, never from user text);
`ll_bulk_load_end(table)` re-creates the indexes with sorted builds and re-adds the foreign keys
`NOT VALID` + `VALIDATE CONSTRAINT`: one anti-join per key instead of one check per row. Names and
definitions come back identical, so Django's migration state is unchanged. Everything is transactional:
a failed or killed execution rolls the drops back. The drops take ACCESS EXCLUSIVE locks on the table and
on the tables its keys reference until the load commits (docs/ARCHITECTURE.md, "Bulk loads").
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION ll_bulk_load_begin(target regclass) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    item record;
    dropped integer := 0;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS ll_bulk_load_saved (
        target regclass NOT NULL, kind text NOT NULL, name text NOT NULL, definition text NOT NULL
    ) ON COMMIT DROP;
    IF EXISTS (SELECT 1 FROM ll_bulk_load_saved s WHERE s.target = ll_bulk_load_begin.target) THEN
        RAISE EXCEPTION 'bulk load of % already begun', target;
    END IF;
    -- Pending deferred checks on these tables would block the ALTER TABLE: run them now (same checks,
    -- same result as at commit).
    SET CONSTRAINTS ALL IMMEDIATE;
    SET CONSTRAINTS ALL DEFERRED;
    FOR item IN
        SELECT c.conname, pg_get_constraintdef(c.oid) AS definition
        FROM pg_constraint c WHERE c.conrelid = target AND c.contype = 'f' ORDER BY c.conname
    LOOP
        INSERT INTO ll_bulk_load_saved VALUES (target, 'foreign key', item.conname, item.definition);
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', target, item.conname);
        dropped := dropped + 1;
    END LOOP;
    FOR item IN
        SELECT i.indexrelid::regclass AS index, c.relname, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = target AND NOT i.indisprimary AND NOT i.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname
    LOOP
        INSERT INTO ll_bulk_load_saved VALUES (target, 'index', item.relname, item.definition);
        EXECUTE format('DROP INDEX %s', item.index);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END $$;

CREATE OR REPLACE FUNCTION ll_bulk_load_end(target regclass) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    item record;
    restored integer := 0;
BEGIN
    IF to_regclass('pg_temp.ll_bulk_load_saved') IS NULL THEN
        RETURN 0;
    END IF;
    FOR item IN
        SELECT s.name, s.definition FROM ll_bulk_load_saved s
        WHERE s.target = ll_bulk_load_end.target AND s.kind = 'index' ORDER BY s.name
    LOOP
        EXECUTE item.definition;
        restored := restored + 1;
    END LOOP;
    FOR item IN
        SELECT s.name, s.definition FROM ll_bulk_load_saved s
        WHERE s.target = ll_bulk_load_end.target AND s.kind = 'foreign key' ORDER BY s.name
    LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', target, item.name, item.definition);
        EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', target, item.name);
        restored := restored + 1;
    END LOOP;
    DELETE FROM ll_bulk_load_saved s WHERE s.target = ll_bulk_load_end.target;
    RETURN restored;
END $$;
"""

REVERSE = """
DROP FUNCTION IF EXISTS ll_bulk_load_begin(regclass);
DROP FUNCTION IF EXISTS ll_bulk_load_end(regclass);
"""


class Migration(migrations.Migration):
    dependencies = [("canonical", "0003_lean_load_indexes")]

    operations = [migrations.RunSQL(sql=FUNCTIONS, reverse_sql=REVERSE)]
