# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml), then given
# the rows: the all-time membership tables summed from the month-by-month ones, and the distinct counts the read-side
# aggregates now store counted from them (what the views' next refreshes keep), so reads never see them NULL.
# top_customers_teams now keeps the teams above first-line ones but the top's (`teams_below_top`), and monthly_revenue
# gets team rows (monthly_revenue_teams): where the view was built, a rebuild of its team rows is recorded as pending
# (0014's way); until then a team's read sums its per-rep rows, as before.

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "sales_rep_customers_all_time" ("sales_rep_id" bigint, "rep_name" text, "customer_id" bigint)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "sales_rep_customers_all_time_key" ON "sales_rep_customers_all_time" ("sales_rep_id", "customer_id") NULLS NOT DISTINCT',  # noqa: E501
    # Whether any month still holds a pair a refresh's months held (`_pairs_refresh`).
    'CREATE INDEX IF NOT EXISTS "sales_rep_customers_pair" ON "sales_rep_customers" ("sales_rep_id", "customer_id")',
    'ALTER TABLE "sales_rep_performance_all_time" ADD COLUMN "customer_count" bigint',
    'CREATE TABLE IF NOT EXISTS "sales_rep_performance_by_name" ("rep_name" text, "revenue" numeric, "order_count" bigint, "customer_count" bigint)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "sales_rep_performance_by_name_key" ON "sales_rep_performance_by_name" ("rep_name") NULLS NOT DISTINCT',  # noqa: E501
    'CREATE INDEX IF NOT EXISTS "sales_rep_performance_by_name_emptied" ON "sales_rep_performance_by_name" ("order_count") WHERE "order_count" = 0',  # noqa: E501
    'CREATE TABLE IF NOT EXISTS "monthly_revenue_teams" ("team_id" bigint, "month" date, "revenue" numeric, "order_count" bigint)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "monthly_revenue_teams_key" ON "monthly_revenue_teams" ("team_id", "month") NULLS NOT DISTINCT',  # noqa: E501
    'CREATE TABLE IF NOT EXISTS "new_vs_returning_members_all_time" ("sales_rep_id" bigint, "customer_id" bigint, "is_new" boolean, "is_returning" boolean, "new_revenue" numeric, "returning_revenue" numeric, "month_count" bigint)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "new_vs_returning_members_all_time_key" ON "new_vs_returning_members_all_time" ("sales_rep_id", "customer_id") NULLS NOT DISTINCT',  # noqa: E501
    'CREATE TABLE IF NOT EXISTS "new_vs_returning_totals" ("new_customers" bigint, "returning_customers" bigint, "new_revenue" numeric, "returning_revenue" numeric)',  # noqa: E501
    'CREATE TABLE IF NOT EXISTS "new_vs_returning_all_time" ("sales_rep_id" bigint, "new_customers" bigint, "returning_customers" bigint, "new_revenue" numeric, "returning_revenue" numeric)',  # noqa: E501
    'CREATE UNIQUE INDEX IF NOT EXISTS "new_vs_returning_all_time_key" ON "new_vs_returning_all_time" ("sales_rep_id") NULLS NOT DISTINCT',  # noqa: E501
    # The rows, as the SQL files beside the declarations select them from the whole month-by-month tables.
    'INSERT INTO "sales_rep_customers_all_time" (sales_rep_id, rep_name, customer_id) '
    'SELECT sales_rep_id, min(rep_name), customer_id FROM "sales_rep_customers" GROUP BY sales_rep_id, customer_id',
    # Counted per key in one hash-joined pass (the refresh's `_distinct_recount`); a NULL rep (orders without one) apart.
    'UPDATE "sales_rep_performance_all_time" a SET customer_count = n.c FROM (SELECT sales_rep_id, count(customer_id) c '
    'FROM "sales_rep_customers_all_time" GROUP BY sales_rep_id) n WHERE a.sales_rep_id = n.sales_rep_id',
    'UPDATE "sales_rep_performance_all_time" a SET customer_count = (SELECT count(customer_id) '
    'FROM "sales_rep_customers_all_time" m WHERE m.sales_rep_id IS NULL) WHERE a.sales_rep_id IS NULL',
    'INSERT INTO "sales_rep_performance_by_name" SELECT rep_name, sum(revenue), sum(order_count), NULL '
    'FROM "sales_rep_performance" GROUP BY rep_name',
    'UPDATE "sales_rep_performance_by_name" a SET customer_count = n.c FROM (SELECT rep_name, '
    'count(DISTINCT customer_id) c FROM "sales_rep_customers_all_time" GROUP BY rep_name) n WHERE a.rep_name = n.rep_name',
    'INSERT INTO "new_vs_returning_members_all_time" '
    "SELECT sales_rep_id, customer_id, bool_or(is_new), bool_or(is_returning), sum(new_revenue), "
    'sum(returning_revenue), count(*) FROM "new_vs_returning_members" GROUP BY sales_rep_id, customer_id',
    'INSERT INTO "new_vs_returning_all_time" SELECT sales_rep_id, NULL, NULL, sum(new_revenue), sum(returning_revenue) '
    'FROM "new_vs_returning_customers" GROUP BY sales_rep_id',
    'UPDATE "new_vs_returning_all_time" a SET new_customers = n.new, returning_customers = n.returning FROM (SELECT '
    "sales_rep_id, count(customer_id) FILTER (WHERE is_new) AS new, count(customer_id) FILTER (WHERE is_returning) "
    'AS returning FROM "new_vs_returning_members_all_time" GROUP BY sales_rep_id) n WHERE a.sales_rep_id = n.sales_rep_id',
    'UPDATE "new_vs_returning_all_time" a SET (new_customers, returning_customers) = (SELECT '
    "count(customer_id) FILTER (WHERE is_new), count(customer_id) FILTER (WHERE is_returning) "
    'FROM "new_vs_returning_members_all_time" m WHERE m.sales_rep_id IS NULL) WHERE a.sales_rep_id IS NULL',
    'INSERT INTO "new_vs_returning_totals" SELECT '
    '(SELECT count(DISTINCT customer_id) FILTER (WHERE is_new) FROM "new_vs_returning_members_all_time"), '
    '(SELECT count(DISTINCT customer_id) FILTER (WHERE is_returning) FROM "new_vs_returning_members_all_time"), '
    'sum(new_revenue), sum(returning_revenue) FROM "new_vs_returning_customers"',
]
BACKWARD = [
    'DROP TABLE "sales_rep_customers_all_time"',
    'DROP INDEX "sales_rep_customers_pair"',
    'ALTER TABLE "sales_rep_performance_all_time" DROP COLUMN "customer_count"',
    'DROP TABLE "sales_rep_performance_by_name"',
    'DELETE FROM "kpi_team_snapshots" WHERE "aggregate_name" = \'monthly_revenue_teams\'',
    'DROP TABLE "monthly_revenue_teams"',
    'DROP TABLE "new_vs_returning_members_all_time"',
    'DROP TABLE "new_vs_returning_totals"',
    'DROP TABLE "new_vs_returning_all_time"',
]


def rebuild_teams_where_built(apps, schema_editor):
    state = apps.get_model("dashboards", "KpiViewState")
    pending = apps.get_model("dashboards", "KpiPendingRefresh")
    for view, team in (("top_customers", "top_customers_teams"), ("monthly_revenue", "monthly_revenue_teams")):
        if state.objects.filter(view_name=view, last_success_at__isnull=False).exists():
            pending.objects.create(view_name=team, months=[], full=True)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0016_merge_line_amounts_and_memberships")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(rebuild_teams_where_built, migrations.RunPython.noop),
    ]
