-- Update the rows of one canonical table from a staging table of resolved values (the direct load,
-- mappings/services/direct.py): only rows whose mapped values differ (IS DISTINCT FROM) or that were
-- placeholders are written, so re-running the same file rewrites nothing. `{guard}` and the assignments carry
-- who owns a row (upsert.ownership: a file of another grain leaves rows described at their grain alone).
-- The caller holds a SHARE ROW EXCLUSIVE lock on the table. Counts and touched keys are folded like upsert.sql's.
WITH upserted AS (
    UPDATE {table} AS t SET {assignments}
    FROM {staging} s
    WHERE t.external_id = s.external_id AND (({current}) IS DISTINCT FROM ({incoming}) OR t.is_placeholder){guard}
    RETURNING false AS inserted, t.id, {returning}
), grouped AS (
    SELECT GROUPING({grouped}) AS mask, {named}, count(*) AS n
    FROM upserted u
    GROUP BY GROUPING SETS ({sets})
)
SELECT {folded} FROM grouped
