-- Upsert one staging table into its canonical table; mappings/services/upsert.py fills the placeholders
-- with quoted identifiers. A row is written only when a mapped value differs (IS DISTINCT FROM) or it
-- was a placeholder, so re-running the same file rewrites nothing. xmax = 0 tells inserts from updates.
WITH staged AS (
    {staged}
), upserted AS (
    INSERT INTO {table} AS t ({columns})
    SELECT {columns} FROM staged
    ON CONFLICT (external_id) DO UPDATE SET {assignments}
    WHERE ({current}) IS DISTINCT FROM ({incoming}) OR t.is_placeholder
    RETURNING (t.xmax = 0) AS inserted, t.id, {returning}
)
SELECT
    (SELECT count(*) FROM upserted WHERE inserted) AS inserted,
    (SELECT count(*) FROM upserted WHERE NOT inserted) AS updated,
    {touched}
