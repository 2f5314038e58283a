-- 'r'/'p' table, 'm' materialized view, 'v' view; no row when the relation does not exist.
SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%(name)s)
