# Read-side aggregates (dashboards/kpi/registry.py, "Read-side aggregates"): KPI tables summed over fewer
# dimensions, kept by the refresh of the view they sum and read by the one row-filtering function when they hold
# what a query needs. Filled here from the views as they are, so a database that already has data reads the same
# figures from them right after migrating. Row-level security is put on them by the post_migrate handler.
#
# Also: top_customers' scope index covers what a ranking reads (customer, name, revenue), so a manager's ranking
# is an index-only scan of their reps' entries instead of a heap page per row (2,222 pages for 6,028 rows at 1M).

from django.db import migrations

TABLES = [
    (
        "monthly_revenue_all_reps",
        """CREATE TABLE "monthly_revenue_all_reps" ("month" date, "revenue" numeric, "order_count" bigint)""",
        [
            """CREATE UNIQUE INDEX "monthly_revenue_all_reps_key" ON "monthly_revenue_all_reps" ("month") NULLS NOT DISTINCT"""
        ],
        """SELECT month, sum(revenue), sum(order_count) FROM monthly_revenue GROUP BY month""",
    ),
    (
        "revenue_by_category_all_reps",
        """CREATE TABLE "revenue_by_category_all_reps" (
    "month" date, "category" text NOT NULL, "revenue" numeric, "quantity" numeric)""",
        [
            """CREATE UNIQUE INDEX "revenue_by_category_all_reps_key" ON "revenue_by_category_all_reps" ("month", "category") NULLS NOT DISTINCT"""
        ],
        """SELECT month, category, sum(revenue), sum(quantity) FROM revenue_by_category GROUP BY month, category""",
    ),
    (
        "order_fulfillment_all_reps",
        """CREATE TABLE "order_fulfillment_all_reps" (
    "month" date, "status" text, "order_count" bigint, "shipped_count" bigint, "total_days_to_ship" bigint)""",
        [
            """CREATE UNIQUE INDEX "order_fulfillment_all_reps_key" ON "order_fulfillment_all_reps" ("month", "status") NULLS NOT DISTINCT"""
        ],
        """SELECT month, status, sum(order_count), sum(shipped_count), sum(total_days_to_ship)
FROM order_fulfillment GROUP BY month, status""",
    ),
    (
        "sales_rep_performance_all_time",
        """CREATE TABLE "sales_rep_performance_all_time" (
    "sales_rep_id" bigint, "rep_name" text, "revenue" numeric, "order_count" bigint, "customer_count" bigint)""",
        [
            """CREATE UNIQUE INDEX "sales_rep_performance_all_time_key" ON "sales_rep_performance_all_time" ("sales_rep_id") NULLS NOT DISTINCT"""
        ],
        """SELECT sales_rep_id, min(rep_name), sum(revenue), sum(order_count), sum(customer_count)
FROM sales_rep_performance GROUP BY sales_rep_id""",
    ),
    (
        "top_customers_all_reps",
        """CREATE TABLE "top_customers_all_reps" (
    "customer_id" bigint, "customer_name" text, "country" text, "segment" text, "revenue" numeric,
    "order_count" bigint)""",
        [
            """CREATE UNIQUE INDEX "top_customers_all_reps_key" ON "top_customers_all_reps" ("customer_id") NULLS NOT DISTINCT""",
            # An executive's ranking: the first entries of this index, no sort of a million customers.
            """CREATE INDEX "top_customers_all_reps_revenue" ON "top_customers_all_reps" ("revenue" DESC NULLS LAST)""",
        ],
        """SELECT customer_id, min(customer_name), min(country), min(segment), sum(revenue), sum(order_count)
FROM top_customers GROUP BY customer_id""",
    ),
]

FORWARD = []
BACKWARD = []
for name, create, indexes, fill in TABLES:
    FORWARD += [create, f'INSERT INTO "{name}" {fill}', *indexes, f'ANALYZE "{name}"']
    BACKWARD.append(f'DROP TABLE "{name}"')
FORWARD += [
    'DROP INDEX "top_customers_scope"',
    'CREATE INDEX "top_customers_scope" ON "top_customers" ("sales_rep_id") INCLUDE ("customer_id", "customer_name", "revenue")',
]
BACKWARD = [
    'DROP INDEX "top_customers_scope"',
    'CREATE INDEX "top_customers_scope" ON "top_customers" ("sales_rep_id")',
    *BACKWARD,
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0005_top_customers_by_customer_id")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
