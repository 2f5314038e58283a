-- Second wall for a KPI summary table with an employee column: the reader role sees a row only when the scope the
-- transaction named (`ledgerlight.kpi_scope`, a key set by dashboards.kpi.read from the caller's RowScope) holds that
-- employee, or is all rows. No setting, or a key never stored -> no rows.
-- {all_rows} and {employee_ids} read kpi_read_scopes (dashboards.kpi.rls) in scalar subqueries, which PostgreSQL
-- evaluates once per query (InitPlans), not per row; the policy keeps the table by its OID, whatever the search_path.
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS ledgerlight_row_scope ON {table};
CREATE POLICY ledgerlight_row_scope ON {table} FOR SELECT TO {role} USING (
    {all_rows} OR {column} = ANY ({employee_ids})
);
GRANT SELECT ON {table} TO {role};
