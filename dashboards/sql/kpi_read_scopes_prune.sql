-- Read scopes stored before the cutoff (dashboards.kpi.rls.kpi_read_scopes_prune): a hierarchy change leaves its old
-- scopes behind for good. One still in use is stored again by its next read (a retry on the primary).
DELETE FROM kpi_read_scopes WHERE stored_at < now() - make_interval(days => %(days)s)
