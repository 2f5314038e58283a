-- Upsert one staging table into its canonical table; mappings/services/upsert.py fills the placeholders
-- with quoted identifiers. Two plain statements in one: an UPDATE of the rows whose mapped values differ
-- (IS DISTINCT FROM) or that were placeholders, and an INSERT of the identifiers the table does not
-- have yet. Unchanged rows are not written, so re-running the same file rewrites nothing. `{guard}` and the
-- assignments carry who owns a row (upsert.ownership). The caller
-- holds a SHARE ROW EXCLUSIVE lock on the table, so no other writer can add an identifier in between.
-- Both see the table as it was before the statement: the INSERT never takes a row the UPDATE wrote.
WITH staged AS NOT MATERIALIZED (
    {staged}
), updated AS (
    UPDATE {table} AS t SET {assignments}
    FROM staged s
    WHERE t.external_id = s.external_id AND (({current}) IS DISTINCT FROM ({incoming}) OR t.is_placeholder){guard}
    RETURNING false AS inserted, t.id, {returning}
), inserted AS (
    INSERT INTO {table} AS t ({columns})
    SELECT {columns} FROM staged s
    WHERE NOT EXISTS (SELECT 1 FROM {table} e WHERE e.external_id = s.external_id)
    RETURNING true AS inserted, t.id, {returning}
), upserted AS (
    SELECT * FROM updated UNION ALL SELECT * FROM inserted
-- Counts and the keys the KPI refresh needs: one hashed pass over the written rows (a row per value of
-- each grouping set), folded into one row of counts and arrays.
), grouped AS (
    SELECT GROUPING({grouped}) AS mask, {named}, count(*) AS n
    FROM upserted u
    GROUP BY GROUPING SETS ({sets})
)
SELECT {folded} FROM grouped
