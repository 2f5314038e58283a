# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml), then the
# scope index added: a manager's or VP's question reads a range of (rep, month) holding every amount, index only.

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "dataset_orders_monthly" ("month" date, "sales_rep_id" bigint, "revenue" numeric, "amount" numeric, "shipping_amount" numeric, "tax_amount" numeric, "discount_amount" numeric, "line_count" bigint, "cogs" numeric, "order_count" bigint, "revenue_count" bigint, "amount_count" bigint, "shipping_amount_count" bigint, "tax_amount_count" bigint, "discount_amount_count" bigint, "line_count_count" bigint, "cogs_count" bigint)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "dataset_orders_monthly_key" ON "dataset_orders_monthly" ("month", "sales_rep_id") NULLS NOT DISTINCT',
    'CREATE INDEX IF NOT EXISTS "dataset_orders_monthly_scope" ON "dataset_orders_monthly" ("sales_rep_id", "month") '
    'INCLUDE ("revenue", "amount", "shipping_amount", "tax_amount", "discount_amount", "line_count", "cogs", '
    '"order_count", "revenue_count", "amount_count", "shipping_amount_count", "tax_amount_count", '
    '"discount_amount_count", "line_count_count", "cogs_count")',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0020_merge_all_time_distinct_counts_and_datasets")]

    operations = [migrations.RunSQL(FORWARD, ['DROP TABLE IF EXISTS "dataset_orders_monthly"'])]
