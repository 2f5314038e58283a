# A KPI read names the caller's scope by a key (`ledgerlight.kpi_scope`) instead of carrying its employee ids: the ids
# are stored once per scope here, and the row-level policies and the reads' own predicates take them from this table
# (dashboards/kpi/rls.py). A VP's read sent 875 ids three times (the setting, the team lookup, the usual branch); now a
# 64-character key once. The key is an HMAC of the ids under the server's secret (`dashboards.kpi.rls.scope_read_key`):
# a session cannot make up the key of a scope it was not given. The reader role sees only the row of the key its
# transaction set (the policy `kpi_rls_ensure` puts on this table): no keys to enumerate.

from django.db import migrations

FORWARD = [
    """CREATE TABLE IF NOT EXISTS "kpi_read_scopes" (
        "scope_key" text PRIMARY KEY,
        "all_rows" boolean NOT NULL,
        "employee_ids" bigint[] NOT NULL,
        "members_digest" text NOT NULL,
        "stored_at" timestamptz NOT NULL DEFAULT now()
    )""",
    'REVOKE ALL ON "kpi_read_scopes" FROM PUBLIC',
    'ALTER TABLE "kpi_read_scopes" ENABLE ROW LEVEL SECURITY',
    # The read's setup checks its key through this once the scope is set: an unknown key (not stored yet, or not
    # replayed yet by a standby) stops the read with SQLSTATE LL001, and the reader stores the scope on the primary and
    # reads there. As the reader role it sees only the row of the key set (the table's policy).
    """CREATE OR REPLACE FUNCTION kpi_scope_check() RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
    BEGIN
        IF current_setting('ledgerlight.kpi_scope', true) <> '' AND NOT EXISTS (
            SELECT 1 FROM kpi_read_scopes WHERE scope_key = current_setting('ledgerlight.kpi_scope', true)
        ) THEN
            RAISE EXCEPTION 'unknown KPI read scope' USING ERRCODE = 'LL001';
        END IF;
        RETURN true;
    END
    $$""",
]
# Back: the policies that read the table go with it (CASCADE); a table with row-level security and no policy shows the
# reader nothing until the older code's post_migrate puts its own policies back.
BACKWARD = [
    "DROP FUNCTION IF EXISTS kpi_scope_check()",
    'DROP TABLE IF EXISTS "kpi_read_scopes" CASCADE',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0028_kpi_team_snapshots_members_digest")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
