-- Second wall for a KPI summary table with an employee column: the reader role sees a row only when the
-- transaction's settings (set by dashboards.selectors, SET LOCAL) allow that employee, or allow all rows.
-- No setting -> NULL -> no rows.
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS ledgerlight_row_scope ON {table};
CREATE POLICY ledgerlight_row_scope ON {table} FOR SELECT TO {role} USING (
    current_setting('ledgerlight.kpi_all_rows', true) = 'on'
    OR {column} = ANY (string_to_array(NULLIF(current_setting('ledgerlight.kpi_employee_ids', true), ''), ',')::bigint[])
);
GRANT SELECT ON {table} TO {role};
