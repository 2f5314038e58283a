-- The table's unique constraint on external_id alone (name, definition), unless a foreign key depends on its
-- index: a bulk load of new rows only builds it after the COPY (upsert.bulk_load_unique_drop).
SELECT c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = 'external_id'
WHERE c.conrelid = %s::regclass
  AND c.contype = 'u'
  AND c.conkey = ARRAY[a.attnum]
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
