# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml).

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "customer_segments_teams" ("team_id" bigint, "segment" text, "customer_count" bigint, "order_count" bigint, "revenue" numeric)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "customer_segments_teams_key" ON "customer_segments_teams" ("team_id", "segment") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "new_vs_returning_teams" ("team_id" bigint, "month" date, "new_customers" bigint, "returning_customers" bigint, "new_revenue" numeric, "returning_revenue" numeric)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "new_vs_returning_teams_key" ON "new_vs_returning_teams" ("team_id", "month") NULLS NOT DISTINCT',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0025_merge_weekly_and_read_rows")]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
