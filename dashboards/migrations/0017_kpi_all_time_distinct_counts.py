# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml), then given
# the rows: the all-time membership of sales_rep_performance summed from its month-by-month one, and each rep's
# distinct customers counted from it (what the view's next refresh keeps), so reads of a built view never see NULL.

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "sales_rep_customers_all_time" ("sales_rep_id" bigint, "rep_name" text, "customer_id" bigint, "revenue" numeric, "order_count" bigint, "month_count" bigint)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "sales_rep_customers_all_time_key" ON "sales_rep_customers_all_time" ("sales_rep_id", "customer_id") NULLS NOT DISTINCT',  # noqa: E501
    'CREATE INDEX IF NOT EXISTS "sales_rep_customers_all_time_emptied" ON "sales_rep_customers_all_time" ("month_count") WHERE "month_count" = 0',  # noqa: E501
    'ALTER TABLE "sales_rep_performance_all_time" ADD COLUMN "customer_count" bigint',
    # The rows (dashboards/kpi/sql/sales_rep_customers_all_time.sql over the whole membership table).
    'INSERT INTO "sales_rep_customers_all_time" (sales_rep_id, rep_name, customer_id, revenue, order_count, month_count) '  # noqa: E501
    "SELECT sales_rep_id, min(rep_name), customer_id, sum(revenue), sum(order_count), count(*) "
    'FROM "sales_rep_customers" GROUP BY sales_rep_id, customer_id',
    'UPDATE "sales_rep_performance_all_time" a SET customer_count = '
    '(SELECT count(customer_id) FROM "sales_rep_customers_all_time" m WHERE m.sales_rep_id IS NOT DISTINCT FROM a.sales_rep_id)',  # noqa: E501
]
BACKWARD = [
    'DROP TABLE "sales_rep_customers_all_time"',
    'ALTER TABLE "sales_rep_performance_all_time" DROP COLUMN "customer_count"',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0016_merge_line_amounts_and_memberships")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
