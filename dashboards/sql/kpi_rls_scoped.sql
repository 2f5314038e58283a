-- Second wall for a KPI summary table with an employee column: the reader role sees a row only when the
-- transaction's settings (set by dashboards.selectors, SET LOCAL) allow that employee, or allow all rows.
-- No setting -> NULL -> no rows.
-- The settings are read in scalar subqueries, which PostgreSQL evaluates once per query (InitPlans), not per
-- row: parsing the id list for every row would cost more than the read's whole index scan.
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS ledgerlight_row_scope ON {table};
CREATE POLICY ledgerlight_row_scope ON {table} FOR SELECT TO {role} USING (
    (SELECT current_setting('ledgerlight.kpi_all_rows', true) = 'on')
    OR {column} = ANY ((SELECT string_to_array(NULLIF(current_setting('ledgerlight.kpi_employee_ids', true), ''), ',')::bigint[])::bigint[])
);
GRANT SELECT ON {table} TO {role};
