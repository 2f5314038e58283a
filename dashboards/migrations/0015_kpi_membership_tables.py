# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml), then
# trimmed to what changed: the membership tables of the views with distinct counts (sales_rep_performance,
# customer_segments, new_vs_returning_customers), and the all-time aggregate's customer count dropped (months'
# distinct counts do not add up; the count is read from the membership table).

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "sales_rep_customers" ("month" date, "sales_rep_id" bigint, "rep_name" text, "customer_id" bigint, "revenue" numeric, "order_count" bigint)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "sales_rep_customers_key" ON "sales_rep_customers" ("month", "sales_rep_id", "customer_id") NULLS NOT DISTINCT',  # noqa: E501
    'CREATE TABLE IF NOT EXISTS "customer_segment_members" ("segment" text, "country" text, "sales_rep_id" bigint, "customer_id" bigint, "order_count" bigint, "revenue" numeric)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "customer_segment_members_key" ON "customer_segment_members" ("customer_id", "sales_rep_id") NULLS NOT DISTINCT',  # noqa: E501
    'CREATE TABLE IF NOT EXISTS "new_vs_returning_members" ("month" date, "sales_rep_id" bigint, "customer_id" bigint, "is_new" boolean, "is_returning" boolean, "new_revenue" numeric, "returning_revenue" numeric)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "new_vs_returning_members_key" ON "new_vs_returning_members" ("month", "sales_rep_id", "customer_id") NULLS NOT DISTINCT',  # noqa: E501
    # Scoped reads (a manager's reps, a rep's own rows) by rep and month, as the views' own scope indexes (0002).
    'CREATE INDEX IF NOT EXISTS "sales_rep_customers_scope" ON "sales_rep_customers" ("sales_rep_id", "month")',
    'CREATE INDEX IF NOT EXISTS "customer_segment_members_scope" ON "customer_segment_members" ("sales_rep_id")',
    'CREATE INDEX IF NOT EXISTS "new_vs_returning_members_scope" ON "new_vs_returning_members" ("sales_rep_id", "month")',
    'ALTER TABLE "sales_rep_performance_all_time" DROP COLUMN IF EXISTS "customer_count"',
]
MEMBERSHIP = {
    "sales_rep_performance": "sales_rep_customers",
    "customer_segments": "customer_segment_members",
    "new_vs_returning_customers": "new_vs_returning_members",
}
BACKWARD = [
    'DROP TABLE "sales_rep_customers"',
    'DROP TABLE "customer_segment_members"',
    'DROP TABLE "new_vs_returning_members"',
    'ALTER TABLE "sales_rep_performance_all_time" ADD COLUMN "customer_count" bigint',
]


def rebuild_where_built(apps, schema_editor):
    state = apps.get_model("dashboards", "KpiViewState")
    pending = apps.get_model("dashboards", "KpiPendingRefresh")
    for view, members in MEMBERSHIP.items():
        if state.objects.filter(view_name=view, last_success_at__isnull=False).exists():
            pending.objects.create(view_name=members, months=[], full=True)
    # Rows without a rep are now named "Unassigned" (they were ''): rebuild the view's stored months too.
    if state.objects.filter(view_name="sales_rep_performance", last_success_at__isnull=False).exists():
        pending.objects.create(view_name="sales_rep_performance", months=[], full=True)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0014_top_customers_first_line_teams")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(rebuild_where_built, migrations.RunPython.noop),
    ]
