-- The type (pg_type.typname) of each column of a table: a binary COPY must send each value in exactly its
-- column's type (mappings/services/pg_binary.py).
SELECT a.attname, t.typname
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
