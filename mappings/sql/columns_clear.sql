-- A new version of an upload's mapping replaces the old one (upsert.columns_clear): the columns it no longer
-- maps are emptied on the rows this upload wrote (source_id), and only there: rows another upload wrote since
-- carry that upload's provenance and keep their values. Counts and touched keys are folded like upsert.sql's.
WITH upserted AS (
    UPDATE {table} AS t SET {assignments}
    WHERE t.source_id = %(source_id)s AND ROW({current}) IS DISTINCT FROM ROW({cleared})
    RETURNING false AS inserted, t.id, {returning}
), grouped AS (
    SELECT GROUPING({grouped}) AS mask, {named}, count(*) AS n
    FROM upserted u
    GROUP BY GROUPING SETS ({sets})
)
SELECT {folded} FROM grouped
