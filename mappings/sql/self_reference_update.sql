-- Second pass for a self-reference (an employee's manager in the same file): every row of the file
-- exists now, so the reference can point at it. Only rows whose referent changed are written, and only rows
-- this file owns (`{guard}`: upsert.ownership).
WITH incoming AS (
    SELECT s.external_id, m.id AS new_id
    FROM {staging} s LEFT JOIN {map} m ON m.ref = s.{column}
), changed AS (
    UPDATE {table} t SET {column} = incoming.new_id
    FROM incoming
    WHERE t.external_id = incoming.external_id AND t.{column} IS DISTINCT FROM incoming.new_id{guard}
    RETURNING t.id
)
SELECT coalesce(array_agg(id), '{{}}') FROM changed;
