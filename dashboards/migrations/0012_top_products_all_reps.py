# Read-side aggregate top_products_all_reps (dashboards/kpi/registry.py, "Read-side aggregates"): every rep's
# top_products rows summed per product, for an executive's ranking. Without it an executive's top-10 products summed
# the whole per-(product, rep) table: 14.9M rows at 10M orders. Filled here from top_products as it is, so a database
# with data reads the same figures from it right after migrating. Row-level security: the post_migrate handler.

from django.db import migrations

FORWARD = [
    """CREATE TABLE "top_products_all_reps" (
    "product_id" bigint, "product_name" text, "category" text, "revenue" numeric, "quantity" numeric,
    "line_count" bigint)""",
    """INSERT INTO "top_products_all_reps"
SELECT product_id, min(product_name), min(category), sum(revenue), sum(quantity), sum(line_count)
FROM top_products GROUP BY product_id""",
    'CREATE UNIQUE INDEX "top_products_all_reps_key" ON "top_products_all_reps" ("product_id") NULLS NOT DISTINCT',
    # An executive's ranking: the first entries of this index, no sort.
    'CREATE INDEX "top_products_all_reps_revenue" ON "top_products_all_reps" ("revenue" DESC NULLS LAST)',
    'ANALYZE "top_products_all_reps"',
]
BACKWARD = ['DROP TABLE "top_products_all_reps"']


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0011_kpi_team_aggregates")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
