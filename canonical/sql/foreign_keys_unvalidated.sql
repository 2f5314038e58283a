-- Foreign keys of the canonical tables that are NOT VALID (re-added by a bulk load, checked for new writes only):
-- table and constraint name, in a stable order.
SELECT c.conrelid::regclass::text AS table_name, c.conname
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
WHERE c.contype = 'f' AND NOT c.convalidated
  AND t.relnamespace = current_schema()::regnamespace AND t.relname LIKE 'canonical\_%'
ORDER BY 1, 2
