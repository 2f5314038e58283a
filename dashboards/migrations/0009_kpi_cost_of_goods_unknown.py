# An order's cost of goods is known only when it has lines and each has a quantity and a product with a cost;
# otherwise it is unknown (NULL), no longer the sum of the lines that happen to have one (a partial cost that
# overstated the margin). gross_margin.sql makes a month's cost unknown when any of its orders' is. Northwind
# has no product costs: its gross margin was shown as 100%, now as unknown.
# The stored order facts and gross margin were computed under the old rule: a full refresh of both is recorded
# as pending (picked up by their next refresh, at the latest the nightly one).

from django.db import migrations

COST_KNOWN = """CREATE OR REPLACE VIEW kpi_order_revenue AS
SELECT o.id AS order_id,
       o.order_date,
       date_trunc('month', o.order_date::timestamp)::date AS month,
       o.customer_id,
       COALESCE(o.sales_rep_id, (SELECT c.sales_rep_id FROM canonical_customers c WHERE c.id = o.customer_id))
           AS sales_rep_id,
       CASE WHEN count(l.id) > 0 THEN sum(kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount))
            ELSE COALESCE(o.amount, 0) END AS revenue,
       count(l.id) AS line_count,
       CASE WHEN count(l.id) > 0 AND count(l.quantity * p.cost) = count(l.id) THEN sum(l.quantity * p.cost) END
           AS cogs
FROM canonical_orders o
LEFT JOIN canonical_order_lines l ON l.order_id = o.id
LEFT JOIN canonical_products p ON p.id = l.product_id
GROUP BY o.id"""

COST_OF_LINES_WITH_ONE = """CREATE OR REPLACE VIEW kpi_order_revenue AS
SELECT o.id AS order_id,
       o.order_date,
       date_trunc('month', o.order_date::timestamp)::date AS month,
       o.customer_id,
       COALESCE(o.sales_rep_id, (SELECT c.sales_rep_id FROM canonical_customers c WHERE c.id = o.customer_id))
           AS sales_rep_id,
       CASE WHEN count(l.id) > 0 THEN sum(kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount))
            ELSE COALESCE(o.amount, 0) END AS revenue,
       count(l.id) AS line_count,
       sum(l.quantity * p.cost) AS cogs
FROM canonical_orders o
LEFT JOIN canonical_order_lines l ON l.order_id = o.id
LEFT JOIN canonical_products p ON p.id = l.product_id
GROUP BY o.id"""

RECOMPUTED = ("kpi_order_facts", "gross_margin")


def recompute_under_the_new_rule(apps, schema_editor):
    state = apps.get_model("dashboards", "KpiViewState")
    pending = apps.get_model("dashboards", "KpiPendingRefresh")
    for name in RECOMPUTED:
        if state.objects.filter(view_name=name, last_success_at__isnull=False).exists():
            pending.objects.create(view_name=name, months=[], full=True)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0008_kpi_order_revenue_rep_lookup")]

    operations = [
        migrations.RunSQL(COST_KNOWN, COST_OF_LINES_WITH_ONE),
        migrations.RunPython(recompute_under_the_new_rule, migrations.RunPython.noop),
    ]
