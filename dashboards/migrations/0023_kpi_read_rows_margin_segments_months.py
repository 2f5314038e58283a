# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml).

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "customer_segments_by_segment" ("segment" text, "customer_count" bigint, "order_count" bigint, "revenue" numeric)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "customer_segments_by_segment_key" ON "customer_segments_by_segment" ("segment") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "new_vs_returning_by_month" ("month" date, "new_customers" bigint, "returning_customers" bigint, "new_revenue" numeric, "returning_revenue" numeric)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "new_vs_returning_by_month_key" ON "new_vs_returning_by_month" ("month") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "gross_margin_all_reps" ("month" date, "revenue" numeric, "cogs" numeric, "gross_margin" numeric)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "gross_margin_all_reps_key" ON "gross_margin_all_reps" ("month") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "gross_margin_teams" ("team_id" bigint, "month" date, "revenue" numeric, "cogs" numeric, "gross_margin" numeric)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "gross_margin_teams_key" ON "gross_margin_teams" ("team_id", "month") NULLS NOT DISTINCT',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0022_merge_monthly_and_team_rows")]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
