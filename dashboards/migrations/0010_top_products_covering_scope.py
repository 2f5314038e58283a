# A manager's top products sum their reps' rows of top_products, found through the scope index (sales_rep_id):
# a rep has a row per product they sold, one or two per heap page, so the read fetched a heap page per row
# (at 10M orders a 17-employee team's read took 266 ms p50, mostly those fetches). With the columns such a read
# groups and sums in the index (INCLUDE), it is an index-only scan, as top_customers' has been since 0006.

from django.db import migrations

FORWARD = [
    'DROP INDEX "top_products_scope"',
    'CREATE INDEX "top_products_scope" ON "top_products" ("sales_rep_id") '
    'INCLUDE ("product_id", "product_name", "revenue")',
]
BACKWARD = [
    'DROP INDEX "top_products_scope"',
    'CREATE INDEX "top_products_scope" ON "top_products" ("sales_rep_id")',
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0009_kpi_cost_of_goods_unknown")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
