# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml), then
# trimmed to what changed: the membership table of sales_rep_performance, and the all-time aggregate's customer
# count dropped (months' distinct counts do not add up; the count is read from the membership table).

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "sales_rep_customers" ("month" date, "sales_rep_id" bigint, "rep_name" text, "customer_id" bigint, "revenue" numeric, "order_count" bigint)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "sales_rep_customers_key" ON "sales_rep_customers" ("month", "sales_rep_id", "customer_id") NULLS NOT DISTINCT',  # noqa: E501
    'ALTER TABLE "sales_rep_performance_all_time" DROP COLUMN IF EXISTS "customer_count"',
]
BACKWARD = [
    'DROP TABLE "sales_rep_customers"',
    'ALTER TABLE "sales_rep_performance_all_time" ADD COLUMN "customer_count" bigint',
]


def rebuild_where_built(apps, schema_editor):
    state = apps.get_model("dashboards", "KpiViewState")
    pending = apps.get_model("dashboards", "KpiPendingRefresh")
    if state.objects.filter(view_name="sales_rep_performance", last_success_at__isnull=False).exists():
        pending.objects.create(view_name="sales_rep_customers", months=[], full=True)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0014_top_customers_first_line_teams")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(rebuild_where_built, migrations.RunPython.noop),
    ]
