-- Resolve a map's distinct reference values by the referent's external id (lookup columns and
-- placeholders follow: upsert.reference_map_complete).
UPDATE {map} m SET id = r.id FROM {referent} r WHERE r.external_id = m.ref;
ANALYZE {map};
