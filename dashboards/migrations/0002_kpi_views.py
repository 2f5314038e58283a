# KPI views (dashboards/kpi/registry.py): the revenue rule, one summary table per view, and the refresh
# engine's bookkeeping (view states, pending partitions, alerts). See docs/KPI.md for why tables.

import django.db.models.deletion
from django.db import migrations, models

# The revenue rule, defined once (docs/KPI.md): a line earns quantity * unit_price * (1 - discount), or its
# amount when quantity or price is missing; an order earns the sum of its lines when it has lines, else its
# amount. Every KPI view reads revenue from here. The function is inlinable (LANGUAGE sql, IMMUTABLE).
REVENUE_RULE = [
    """CREATE FUNCTION kpi_line_revenue(quantity numeric, unit_price numeric, discount numeric, amount numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN quantity IS NULL OR unit_price IS NULL THEN COALESCE(amount, 0)
                ELSE quantity * unit_price * (1 - COALESCE(discount, 0)) END
$$""",
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
DROP_REVENUE_RULE = [
    "DROP VIEW kpi_order_revenue",
    "DROP FUNCTION kpi_line_revenue(numeric, numeric, numeric, numeric)",
]

KPI_TABLES = [
    # monthly_revenue
    """CREATE TABLE "monthly_revenue" (
    "month" date,
    "sales_rep_id" bigint,
    "revenue" numeric,
    "order_count" bigint
)""",
    """CREATE UNIQUE INDEX "monthly_revenue_key" ON "monthly_revenue" ("month", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "monthly_revenue_scope" ON "monthly_revenue" ("sales_rep_id", "month")""",
    # revenue_by_category
    """CREATE TABLE "revenue_by_category" (
    "month" date,
    "sales_rep_id" bigint,
    "category" text NOT NULL,
    "revenue" numeric,
    "quantity" numeric
)""",
    """CREATE UNIQUE INDEX "revenue_by_category_key" ON "revenue_by_category" ("month", "sales_rep_id", "category") NULLS NOT DISTINCT""",
    """CREATE INDEX "revenue_by_category_scope" ON "revenue_by_category" ("sales_rep_id", "month")""",
    # gross_margin
    """CREATE TABLE "gross_margin" (
    "month" date,
    "sales_rep_id" bigint,
    "revenue" numeric,
    "cogs" numeric,
    "gross_margin" numeric,
    "margin_pct" numeric
)""",
    """CREATE UNIQUE INDEX "gross_margin_key" ON "gross_margin" ("month", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "gross_margin_scope" ON "gross_margin" ("sales_rep_id", "month")""",
    # order_fulfillment
    """CREATE TABLE "order_fulfillment" (
    "month" date,
    "sales_rep_id" bigint,
    "status" text NOT NULL,
    "order_count" bigint,
    "shipped_count" bigint,
    "total_days_to_ship" bigint,
    "avg_days_to_ship" numeric
)""",
    """CREATE UNIQUE INDEX "order_fulfillment_key" ON "order_fulfillment" ("month", "sales_rep_id", "status") NULLS NOT DISTINCT""",
    """CREATE INDEX "order_fulfillment_scope" ON "order_fulfillment" ("sales_rep_id", "month")""",
    # sales_rep_performance
    """CREATE TABLE "sales_rep_performance" (
    "month" date,
    "sales_rep_id" bigint,
    "rep_name" text,
    "revenue" numeric,
    "order_count" bigint,
    "customer_count" bigint,
    "avg_order_value" numeric
)""",
    """CREATE UNIQUE INDEX "sales_rep_performance_key" ON "sales_rep_performance" ("month", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "sales_rep_performance_scope" ON "sales_rep_performance" ("sales_rep_id", "month")""",
    # monthly_expenses
    """CREATE TABLE "monthly_expenses" (
    "month" date,
    "employee_id" bigint,
    "category" text NOT NULL,
    "department" text NOT NULL,
    "amount" numeric,
    "expense_count" bigint
)""",
    """CREATE UNIQUE INDEX "monthly_expenses_key" ON "monthly_expenses" ("month", "employee_id", "category", "department") NULLS NOT DISTINCT""",
    """CREATE INDEX "monthly_expenses_scope" ON "monthly_expenses" ("employee_id", "month")""",
    # top_customers_by_month
    """CREATE TABLE "top_customers_by_month" (
    "month" date,
    "customer_id" bigint,
    "sales_rep_id" bigint,
    "revenue" numeric,
    "order_count" bigint
)""",
    """CREATE UNIQUE INDEX "top_customers_by_month_key" ON "top_customers_by_month" ("month", "customer_id", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "top_customers_by_month_scope" ON "top_customers_by_month" ("sales_rep_id", "month")""",
    # top_customers
    """CREATE TABLE "top_customers" (
    "customer_id" bigint,
    "sales_rep_id" bigint,
    "customer_name" text,
    "country" text,
    "segment" text,
    "revenue" numeric,
    "order_count" bigint
)""",
    """CREATE UNIQUE INDEX "top_customers_key" ON "top_customers" ("customer_id", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "top_customers_scope" ON "top_customers" ("sales_rep_id")""",
    # top_products_by_month
    """CREATE TABLE "top_products_by_month" (
    "month" date,
    "product_id" bigint,
    "sales_rep_id" bigint,
    "revenue" numeric,
    "quantity" numeric,
    "line_count" bigint
)""",
    """CREATE UNIQUE INDEX "top_products_by_month_key" ON "top_products_by_month" ("month", "product_id", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "top_products_by_month_scope" ON "top_products_by_month" ("sales_rep_id", "month")""",
    # top_products
    """CREATE TABLE "top_products" (
    "product_id" bigint,
    "sales_rep_id" bigint,
    "product_name" text,
    "category" text,
    "revenue" numeric,
    "quantity" numeric,
    "line_count" bigint
)""",
    """CREATE UNIQUE INDEX "top_products_key" ON "top_products" ("product_id", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "top_products_scope" ON "top_products" ("sales_rep_id")""",
    # ar_aging
    """CREATE TABLE "ar_aging" (
    "customer_id" bigint,
    "sales_rep_id" bigint,
    "customer_name" text,
    "current_due" numeric,
    "days_1_30" numeric,
    "days_31_60" numeric,
    "days_61_90" numeric,
    "days_90_plus" numeric,
    "total_open" numeric,
    "as_of" date
)""",
    """CREATE UNIQUE INDEX "ar_aging_key" ON "ar_aging" ("customer_id", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "ar_aging_scope" ON "ar_aging" ("sales_rep_id")""",
    # collections
    """CREATE TABLE "collections" (
    "month" date,
    "sales_rep_id" bigint,
    "invoiced" numeric,
    "collected" numeric,
    "open_at_month_end" numeric,
    "dso" numeric
)""",
    """CREATE UNIQUE INDEX "collections_key" ON "collections" ("month", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "collections_scope" ON "collections" ("sales_rep_id", "month")""",
    # inventory_status
    """CREATE TABLE "inventory_status" (
    "product_id" bigint,
    "warehouse" text NOT NULL,
    "product_name" text,
    "category" text,
    "snapshot_date" date,
    "quantity_on_hand" numeric,
    "reorder_level" numeric,
    "below_reorder" boolean
)""",
    """CREATE UNIQUE INDEX "inventory_status_key" ON "inventory_status" ("product_id", "warehouse") NULLS NOT DISTINCT""",
    # customer_segments
    """CREATE TABLE "customer_segments" (
    "segment" text NOT NULL,
    "country" text NOT NULL,
    "sales_rep_id" bigint,
    "customer_count" bigint,
    "order_count" bigint,
    "revenue" numeric
)""",
    """CREATE UNIQUE INDEX "customer_segments_key" ON "customer_segments" ("segment", "country", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "customer_segments_scope" ON "customer_segments" ("sales_rep_id")""",
    # new_vs_returning_customers
    """CREATE TABLE "new_vs_returning_customers" (
    "month" date,
    "sales_rep_id" bigint,
    "new_customers" bigint,
    "returning_customers" bigint,
    "new_revenue" numeric,
    "returning_revenue" numeric
)""",
    """CREATE UNIQUE INDEX "new_vs_returning_customers_key" ON "new_vs_returning_customers" ("month", "sales_rep_id") NULLS NOT DISTINCT""",
    """CREATE INDEX "new_vs_returning_customers_scope" ON "new_vs_returning_customers" ("sales_rep_id", "month")""",
]
KPI_TABLE_NAMES = [
    "monthly_revenue",
    "revenue_by_category",
    "gross_margin",
    "order_fulfillment",
    "sales_rep_performance",
    "monthly_expenses",
    "top_customers_by_month",
    "top_customers",
    "top_products_by_month",
    "top_products",
    "ar_aging",
    "collections",
    "inventory_status",
    "customer_segments",
    "new_vs_returning_customers",
]


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_initial"),
        ("mappings", "0001_initial"),
        ("canonical", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="KpiViewState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("view_name", models.CharField(max_length=64, unique=True)),
                ("last_success_at", models.DateTimeField(blank=True, null=True)),
                ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("last_mode", models.CharField(blank=True, default="", max_length=16)),
                ("last_duration_ms", models.IntegerField(blank=True, null=True)),
                ("rows", models.BigIntegerField(blank=True, null=True)),
                (
                    "data_through",
                    models.DateField(blank=True, help_text="Newest date the view's data covers.", null=True),
                ),
                ("consecutive_failures", models.PositiveIntegerField(default=0)),
                ("last_error", models.TextField(blank=True, default="")),
            ],
            options={
                "db_table": "kpi_view_states",
                "ordering": ["view_name"],
            },
        ),
        migrations.CreateModel(
            name="KpiAlert",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("view_name", models.CharField(db_index=True, max_length=64)),
                ("kind", models.CharField(choices=[("stale", "Stale"), ("failing", "Failing")], max_length=16)),
                ("message", models.TextField()),
                ("raised_at", models.DateTimeField(auto_now_add=True)),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("emailed", models.BooleanField(default=False)),
            ],
            options={
                "db_table": "kpi_alerts",
                "ordering": ["-raised_at"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=("view_name", "kind"),
                        name="kpi_alert_one_open",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="KpiPendingRefresh",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("view_name", models.CharField(db_index=True, max_length=64)),
                (
                    "months",
                    models.JSONField(blank=True, default=list, help_text='["YYYY-MM-01", ...]; ignored when full.'),
                ),
                (
                    "full",
                    models.BooleanField(default=False, help_text="A dependency changed without months: refresh fully."),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "source",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="mappings.datasource",
                    ),
                ),
            ],
            options={
                "db_table": "kpi_pending_refreshes",
                "ordering": ["id"],
            },
        ),
        migrations.RunSQL(REVENUE_RULE, DROP_REVENUE_RULE),
        migrations.RunSQL(KPI_TABLES, [f'DROP TABLE "{name}"' for name in KPI_TABLE_NAMES]),
    ]
