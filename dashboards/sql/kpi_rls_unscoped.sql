-- Second wall for a KPI summary table without an employee column: only an all-rows scope sees it.
-- (A scalar subquery: the scope is read once per query, not once per row.)
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS ledgerlight_row_scope ON {table};
CREATE POLICY ledgerlight_row_scope ON {table} FOR SELECT TO {role} USING (
    {all_rows}
);
GRANT SELECT ON {table} TO {role};
