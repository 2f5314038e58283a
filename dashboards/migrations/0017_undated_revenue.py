# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml), then the
# recompute below added by hand. Orders with no date yet (placeholders of order lines loaded before their orders)
# belong to no month: the order facts and order_fulfillment no longer hold them (a NULL month that incremental
# refreshes never recomputed), and undated_revenue counts them. The stored views that held such rows are rebuilt
# by their next refresh (a full refresh recorded as pending, as 0015 does).

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "undated_revenue" ("sales_rep_id" bigint, "revenue" numeric, "order_count" bigint, "line_count" bigint)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "undated_revenue_key" ON "undated_revenue" ("sales_rep_id") NULLS NOT DISTINCT',
]

# Every KPI view that read the undated orders: the order facts' readers (dashboards/kpi/sql/*.toml) and order_fulfillment.
RECOMPUTED = (
    "kpi_order_facts",
    "monthly_revenue",
    "monthly_revenue_all_reps",
    "revenue_by_category",
    "revenue_by_category_all_reps",
    "gross_margin",
    "order_fulfillment",
    "order_fulfillment_all_reps",
    "sales_rep_performance",
    "sales_rep_performance_all_time",
    "sales_rep_customers",
    "top_customers_by_month",
    "top_customers",
    "top_customers_all_reps",
    "top_customers_teams",
    "top_products_by_month",
    "top_products",
    "top_products_all_reps",
    "top_products_teams",
    "customer_segments",
    "customer_segment_members",
    "new_vs_returning_customers",
    "new_vs_returning_members",
)


def recompute_without_undated_orders(apps, schema_editor):
    state = apps.get_model("dashboards", "KpiViewState")
    pending = apps.get_model("dashboards", "KpiPendingRefresh")
    for name in RECOMPUTED:
        if state.objects.filter(view_name=name, last_success_at__isnull=False).exists():
            pending.objects.create(view_name=name, months=[], full=True)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0016_merge_line_amounts_and_memberships")]

    operations = [
        migrations.RunSQL(FORWARD, migrations.RunSQL.noop),
        migrations.RunPython(recompute_without_undated_orders, migrations.RunPython.noop),
    ]
