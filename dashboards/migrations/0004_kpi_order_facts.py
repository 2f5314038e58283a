# Order facts: one row per order (revenue by the rule, line count, cost of goods), stored and kept current by
# the refresh engine, so the revenue views group a narrow table instead of each joining and grouping every
# order line again (docs/KPI.md, "Order facts"). The rule itself stays in the view kpi_order_revenue, which
# gains the order's cost of goods (a column added at the end: CREATE OR REPLACE VIEW keeps the others).

from django.db import migrations

ORDER_REVENUE_WITH_COGS = """CREATE OR REPLACE VIEW kpi_order_revenue AS
SELECT o.id AS order_id,
       o.order_date,
       date_trunc('month', o.order_date::timestamp)::date AS month,
       o.customer_id,
       COALESCE(o.sales_rep_id, c.sales_rep_id) AS sales_rep_id,
       CASE WHEN count(l.id) > 0 THEN sum(kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount))
            ELSE COALESCE(o.amount, 0) END AS revenue,
       count(l.id) AS line_count,
       sum(l.quantity * p.cost) AS cogs
FROM canonical_orders o
LEFT JOIN canonical_customers c ON c.id = o.customer_id
LEFT JOIN canonical_order_lines l ON l.order_id = o.id
LEFT JOIN canonical_products p ON p.id = l.product_id
GROUP BY o.id, c.sales_rep_id"""

ORDER_REVENUE_BEFORE = [
    "DROP VIEW kpi_order_revenue",
    """CREATE VIEW kpi_order_revenue AS
SELECT o.id AS order_id,
       o.order_date,
       date_trunc('month', o.order_date::timestamp)::date AS month,
       o.customer_id,
       COALESCE(o.sales_rep_id, c.sales_rep_id) AS sales_rep_id,
       CASE WHEN count(l.id) > 0 THEN sum(kpi_line_revenue(l.quantity, l.unit_price, l.discount, l.amount))
            ELSE COALESCE(o.amount, 0) END AS revenue,
       count(l.id) AS line_count
FROM canonical_orders o
LEFT JOIN canonical_customers c ON c.id = o.customer_id
LEFT JOIN canonical_order_lines l ON l.order_id = o.id
GROUP BY o.id, c.sales_rep_id""",
]

ORDER_FACTS = [
    """CREATE TABLE "kpi_order_facts" (
    "order_id" bigint NOT NULL,
    "order_date" date,
    "month" date,
    "customer_id" bigint,
    "sales_rep_id" bigint,
    "revenue" numeric,
    "line_count" bigint,
    "cogs" numeric
)""",
    """CREATE UNIQUE INDEX "kpi_order_facts_key" ON "kpi_order_facts" ("order_id")""",
    """CREATE INDEX "kpi_order_facts_month" ON "kpi_order_facts" ("month")""",
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0003_dashboards")]

    operations = [
        migrations.RunSQL(ORDER_REVENUE_WITH_COGS, ORDER_REVENUE_BEFORE),
        migrations.RunSQL(ORDER_FACTS, ['DROP TABLE "kpi_order_facts"']),
    ]
