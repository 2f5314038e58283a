-- The direct load's map of one reference column (mappings/services/direct.py): its distinct values are
-- COPYed in next, then resolved to referent ids as the staging path's maps are.
DROP TABLE IF EXISTS pg_temp.{map};
CREATE TEMP TABLE {map} (ref text NOT NULL, id bigint) ON COMMIT DROP;
