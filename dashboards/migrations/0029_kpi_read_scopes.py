# A KPI read names the caller's scope by a key (`ledgerlight.kpi_scope`) instead of carrying its employee ids: the ids
# are stored once per scope here, and the row-level policies and the reads' own predicates take them from this table
# through the functions below (dashboards/kpi/rls.py). A VP's read sent 875 ids three times (the setting, the team
# lookup, the usual branch); now a 64-character key once. The key is an HMAC of the ids under the server's secret
# (`dashboards.kpi.rls.scope_read_key`): a session cannot name a scope it was not given. The reader role may not read
# the table (no keys to enumerate); the functions run as the table's owner and answer for the key the transaction set.

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
    # The scope the transaction named, or none (no setting, an unknown key): a policy then lets no row through.
    """CREATE OR REPLACE FUNCTION kpi_scope_all_rows() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        SELECT coalesce((SELECT all_rows FROM kpi_read_scopes
                         WHERE scope_key = nullif(current_setting('ledgerlight.kpi_scope', true), '')), false)
    $$""",
    """CREATE OR REPLACE FUNCTION kpi_scope_employee_ids() RETURNS bigint[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        SELECT employee_ids FROM kpi_read_scopes
        WHERE scope_key = nullif(current_setting('ledgerlight.kpi_scope', true), '')
    $$""",
    """CREATE OR REPLACE FUNCTION kpi_scope_members_digest() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        SELECT members_digest FROM kpi_read_scopes
        WHERE scope_key = nullif(current_setting('ledgerlight.kpi_scope', true), '')
    $$""",
    # The read's setup passes its key through this: an unknown key (not stored yet, or not replayed yet on a standby)
    # stops the read with SQLSTATE LL001, and the reader stores the scope on the primary and reads there.
    """CREATE OR REPLACE FUNCTION kpi_scope_known(key text) RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    BEGIN
        IF key <> '' AND NOT EXISTS (SELECT 1 FROM kpi_read_scopes WHERE scope_key = key) THEN
            RAISE EXCEPTION 'unknown KPI read scope' USING ERRCODE = 'LL001';
        END IF;
        RETURN key;
    END
    $$""",
]
# Back: the policies that call the functions go with them (CASCADE); a table with row-level security and no policy
# shows the reader nothing until the older code's post_migrate puts its own policies back.
BACKWARD = [
    "DROP FUNCTION IF EXISTS kpi_scope_known(text)",
    "DROP FUNCTION IF EXISTS kpi_scope_members_digest()",
    "DROP FUNCTION IF EXISTS kpi_scope_employee_ids() CASCADE",
    "DROP FUNCTION IF EXISTS kpi_scope_all_rows() CASCADE",
    'DROP TABLE IF EXISTS "kpi_read_scopes"',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0028_kpi_team_snapshots_members_digest")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
