# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml), then the
# scope index added (as dataset_orders_monthly's): a VP's question by week reads a range of (rep, week) holding every
# amount, index only.

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "dataset_orders_weekly" ("week" date, "month" date, "sales_rep_id" bigint, "revenue" numeric, "amount" numeric, "shipping_amount" numeric, "tax_amount" numeric, "discount_amount" numeric, "line_count" bigint, "cogs" numeric, "order_count" bigint, "revenue_count" bigint, "amount_count" bigint, "shipping_amount_count" bigint, "tax_amount_count" bigint, "discount_amount_count" bigint, "line_count_count" bigint, "cogs_count" bigint)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "dataset_orders_weekly_key" ON "dataset_orders_weekly" ("week", "month", "sales_rep_id") NULLS NOT DISTINCT',
    'CREATE INDEX IF NOT EXISTS "dataset_orders_weekly_scope" ON "dataset_orders_weekly" ("sales_rep_id", "week") '
    'INCLUDE ("month", "revenue", "amount", "shipping_amount", "tax_amount", "discount_amount", "line_count", "cogs", '
    '"order_count", "revenue_count", "amount_count", "shipping_amount_count", "tax_amount_count", '
    '"discount_amount_count", "line_count_count", "cogs_count")',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0023_access_generation_dashboards")]

    operations = [migrations.RunSQL(FORWARD, ['DROP TABLE IF EXISTS "dataset_orders_weekly"'])]
