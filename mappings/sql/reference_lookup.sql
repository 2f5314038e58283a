-- A reference not matching an external id may name its referent by a lookup column (email, name).
UPDATE {map} m SET id = r.id
FROM (
    SELECT DISTINCT ON (lower({lookup})) lower({lookup}) AS k, id
    FROM {referent}
    WHERE {lookup} <> ''
    ORDER BY lower({lookup}), is_placeholder, id
) r
WHERE m.id IS NULL AND r.k = lower(m.ref);
