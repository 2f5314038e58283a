-- A read scope stored under its key (dashboards.kpi.rls.kpi_scope_store): its employee ids sorted, and their digest as
-- kpi_team_snapshots stores a team's (md5 of the ids joined by commas). A key names one scope for good: kept as it is.
INSERT INTO kpi_read_scopes (scope_key, all_rows, employee_ids, members_digest)
VALUES (%(key)s, %(all_rows)s, %(ids)s::bigint[], md5(array_to_string(%(ids)s::bigint[], ',')))
ON CONFLICT (scope_key) DO NOTHING
