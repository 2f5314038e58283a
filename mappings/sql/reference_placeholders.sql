-- Referents that do not exist yet become placeholder rows (is_placeholder), filled in when a file
-- describing them is loaded later.
WITH created AS (
    INSERT INTO {referent} (external_id, {name_columns} is_placeholder, source_id)
    SELECT m.ref, {name_values} true, %(source_id)s FROM {map} m WHERE m.id IS NULL
    ON CONFLICT (external_id) DO NOTHING
    RETURNING id, external_id
)
UPDATE {map} m SET id = created.id FROM created WHERE m.id IS NULL AND created.external_id = m.ref
RETURNING m.ref;
