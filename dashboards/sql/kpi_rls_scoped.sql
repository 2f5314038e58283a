-- Second wall for a KPI summary table with an employee column: the reader role sees a row only when the scope the
-- transaction named (`ledgerlight.kpi_scope`, a key set by dashboards.kpi.read from the caller's RowScope) holds that
-- employee, or is all rows. No setting, or a key never stored -> no rows.
-- The scope is read in scalar subqueries, which PostgreSQL evaluates once per query (InitPlans), not per row.
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS ledgerlight_row_scope ON {table};
CREATE POLICY ledgerlight_row_scope ON {table} FOR SELECT TO {role} USING (
    (SELECT kpi_scope_all_rows()) OR {column} = ANY ((SELECT kpi_scope_employee_ids())::bigint[])
);
GRANT SELECT ON {table} TO {role};
