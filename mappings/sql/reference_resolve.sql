-- Resolve the distinct reference values of one staging column to referent ids: by external id first,
-- then by each lookup column (email, name), case-insensitively. Placeholders are quoted identifiers.
DROP TABLE IF EXISTS pg_temp.{map};
CREATE TEMP TABLE {map} ON COMMIT DROP AS
    SELECT DISTINCT s.{column} AS ref, NULL::bigint AS id FROM {staging} s WHERE s.{column} IS NOT NULL;
UPDATE {map} m SET id = r.id FROM {referent} r WHERE r.external_id = m.ref;
ANALYZE {map};
