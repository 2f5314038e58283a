# A partial index per KPI table with a count column (registry `count_column`: the per-entity rollups and their
# aggregates) holding only rows whose count is 0. No row has a count of 0 between refreshes, so after an incremental
# refresh applies its differences, the rows it emptied are exactly those (dashboards.services.refresh,
# `_delete_emptied`): found through this index, their deletion costs what it deletes.

from django.db import migrations

COUNTED = {
    "top_customers": "order_count",
    "top_products": "line_count",
    "sales_rep_performance_all_time": "order_count",
    "top_customers_all_reps": "order_count",
    "top_products_all_reps": "line_count",
    "top_products_teams": "line_count",
}

FORWARD = [
    f'CREATE INDEX IF NOT EXISTS "{table}_emptied" ON "{table}" ("{count}") WHERE "{count}" = 0'
    for table, count in COUNTED.items()
]
BACKWARD = [f'DROP INDEX IF EXISTS "{table}_emptied"' for table in COUNTED]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0012_top_products_all_reps")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
