# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml).

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "sales_rep_performance_teams" ("team_id" bigint, "rep_name" text, "revenue" numeric, "order_count" bigint, "customer_count" bigint)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "sales_rep_performance_teams_key" ON "sales_rep_performance_teams" ("team_id", "rep_name") NULLS NOT DISTINCT',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0026_kpi_team_distinct_counts")]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
