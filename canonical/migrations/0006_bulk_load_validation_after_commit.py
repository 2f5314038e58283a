"""Bulk loads re-add their foreign keys NOT VALID and leave the full check to after the commit.

`ll_bulk_load_end(table, validate)` re-creates the dropped indexes and re-adds the dropped foreign keys
`NOT VALID`: from then on PostgreSQL checks every row written, and the rows the load wrote reference only
ids the load resolved against the referent tables inside its transaction, which it holds locked until
commit (mappings/services/direct.py). With `validate` (the default, as before) it also validates them.
The execution passes false: `canonical.services.canonical_foreign_keys_validate` validates them after the
commit, under a lock that blocks neither reads nor writes (PostgreSQL's documented way to add a foreign
key to a big table), instead of the load's transaction scanning every row it wrote once more per key
while it holds its exclusive locks. A definition saved from a key that was still NOT VALID is re-added
without a second "NOT VALID".
"""

from importlib import import_module

from django.db import migrations

FUNCTION = r"""
DROP FUNCTION IF EXISTS ll_bulk_load_end(regclass);
CREATE OR REPLACE FUNCTION ll_bulk_load_end(target regclass, validate boolean DEFAULT true) RETURNS integer
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
        SELECT s.name, regexp_replace(s.definition, '\s+NOT VALID$', '') AS definition FROM ll_bulk_load_saved s
        WHERE s.target = ll_bulk_load_end.target AND s.kind = 'foreign key' ORDER BY s.name
    LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', target, item.name, item.definition);
        IF validate THEN
            EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', target, item.name);
        END IF;
        restored := restored + 1;
    END LOOP;
    DELETE FROM ll_bulk_load_saved s WHERE s.target = ll_bulk_load_end.target;
    RETURN restored;
END $$;
"""

# Back to 0004's functions (ll_bulk_load_begin is unchanged; CREATE OR REPLACE keeps it as it is).
REVERSE = "DROP FUNCTION IF EXISTS ll_bulk_load_end(regclass, boolean);\n" + (
    import_module("canonical.migrations.0004_bulk_load_functions").FUNCTIONS
)


class Migration(migrations.Migration):
    dependencies = [("canonical", "0005_source_brin_indexes")]

    operations = [migrations.RunSQL(sql=FUNCTION, reverse_sql=REVERSE)]
