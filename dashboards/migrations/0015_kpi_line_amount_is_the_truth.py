# The revenue rule, v2: a line earns its amount when the file gave it (not computed by the engine: canonical
# order_lines.amount_computed), else quantity * unit_price * (1 - discount), else its amount (0 when none).
# A net line total mapped beside a quantity and a discount is no longer recomputed from a list price.
# The stored views that sum line revenue were computed under the old rule: a full refresh of each is recorded
# as pending (picked up by its next refresh, at the latest the nightly one).

from django.db import migrations

LINE_REVENUE = """CREATE FUNCTION kpi_line_revenue(
    quantity numeric, unit_price numeric, discount numeric, amount numeric, amount_computed boolean
)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN amount IS NOT NULL AND NOT COALESCE(amount_computed, false) THEN amount
                WHEN quantity IS NULL OR unit_price IS NULL THEN COALESCE(amount, 0)
                ELSE quantity * unit_price * (1 - COALESCE(discount, 0)) END
$$"""

ORDER_REVENUE = """CREATE OR REPLACE VIEW kpi_order_revenue AS
SELECT o.id AS order_id,
       o.order_date,
       date_trunc('month', o.order_date::timestamp)::date AS month,
       o.customer_id,
       COALESCE(o.sales_rep_id, (SELECT c.sales_rep_id FROM canonical_customers c WHERE c.id = o.customer_id))
           AS sales_rep_id,
       CASE WHEN count(l.id) > 0
            THEN sum(kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount, l.amount_computed))
            ELSE COALESCE(o.amount, 0) END AS revenue,
       count(l.id) AS line_count,
       CASE WHEN count(l.id) > 0 AND count(l.quantity * p.cost) = count(l.id) THEN sum(l.quantity * p.cost) END
           AS cogs
FROM canonical_orders o
LEFT JOIN canonical_order_lines l ON l.order_id = o.id
LEFT JOIN canonical_products p ON p.id = l.product_id
GROUP BY o.id"""

ORDER_REVENUE_V1 = """CREATE OR REPLACE VIEW kpi_order_revenue AS
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

LINE_REVENUE_V1 = """CREATE FUNCTION kpi_line_revenue(quantity numeric, unit_price numeric, discount numeric, amount numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN quantity IS NULL OR unit_price IS NULL THEN COALESCE(amount, 0)
                ELSE quantity * unit_price * (1 - COALESCE(discount, 0)) END
$$"""

# Every KPI view whose declaration depends on canonical_order_lines (dashboards/kpi/sql/*.toml).
RECOMPUTED = (
    "kpi_order_facts",
    "monthly_revenue",
    "monthly_revenue_all_reps",
    "revenue_by_category",
    "revenue_by_category_all_reps",
    "gross_margin",
    "sales_rep_performance",
    "sales_rep_performance_all_time",
    "top_customers_by_month",
    "top_customers",
    "top_customers_all_reps",
    "top_customers_teams",
    "top_products_by_month",
    "top_products",
    "top_products_all_reps",
    "top_products_teams",
    "customer_segments",
    "new_vs_returning_customers",
)


def recompute_under_the_new_rule(apps, schema_editor):
    state = apps.get_model("dashboards", "KpiViewState")
    pending = apps.get_model("dashboards", "KpiPendingRefresh")
    for name in RECOMPUTED:
        if state.objects.filter(view_name=name, last_success_at__isnull=False).exists():
            pending.objects.create(view_name=name, months=[], full=True)


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0014_top_customers_first_line_teams"),
        ("canonical", "0008_order_lines_amount_computed"),
    ]

    operations = [
        migrations.RunSQL(
            LINE_REVENUE,
            "DROP FUNCTION kpi_line_revenue(numeric, numeric, numeric, numeric, boolean)",
        ),
        migrations.RunSQL(ORDER_REVENUE, ORDER_REVENUE_V1),
        # The rule stays defined once: the four-argument version has no reader left.
        migrations.RunSQL("DROP FUNCTION kpi_line_revenue(numeric, numeric, numeric, numeric)", LINE_REVENUE_V1),
        migrations.RunPython(recompute_under_the_new_rule, migrations.RunPython.noop),
    ]
