-- The stored read scopes (migration 0029): the reader role sees the row of the key its transaction set, and no other,
-- so it can neither list keys nor read another scope's ids.
ALTER TABLE kpi_read_scopes ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS ledgerlight_own_scope ON kpi_read_scopes;
CREATE POLICY ledgerlight_own_scope ON kpi_read_scopes FOR SELECT TO {role} USING (
    scope_key = current_setting('ledgerlight.kpi_scope', true)
);
GRANT SELECT ON kpi_read_scopes TO {role};
