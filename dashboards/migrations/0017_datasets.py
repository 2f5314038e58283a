# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml), then the
# datasets' scope indexes added: a manager's or rep's question reads a range of (employee, date); the orders
# dataset's index holds the revenue, so a team's revenue by month is an index-only scan.

from django.db import migrations

FORWARD = [
    'CREATE TABLE IF NOT EXISTS "dataset_orders" ("order_id" bigint, "order_number" text, "order_date" date, "month" date, "shipped_date" date, "status" text, "currency" text, "customer_id" bigint, "customer_name" text, "customer_country" text, "customer_city" text, "customer_segment" text, "sales_rep_id" bigint, "sales_rep_name" text, "revenue" numeric, "amount" numeric, "shipping_amount" numeric, "tax_amount" numeric, "discount_amount" numeric, "line_count" bigint, "cogs" numeric, "attributes" jsonb)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "dataset_orders_key" ON "dataset_orders" ("order_id") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "dataset_order_lines" ("line_id" bigint, "order_id" bigint, "order_number" text, "order_date" date, "month" date, "customer_id" bigint, "customer_name" text, "customer_country" text, "sales_rep_id" bigint, "sales_rep_name" text, "product_id" bigint, "product_name" text, "product_category" text, "quantity" numeric, "unit_price" numeric, "discount" numeric, "revenue" numeric, "cogs" numeric, "attributes" jsonb)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "dataset_order_lines_key" ON "dataset_order_lines" ("line_id") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "dataset_invoices" ("invoice_id" bigint, "invoice_number" text, "invoice_date" date, "month" date, "due_date" date, "paid_date" date, "status" text, "currency" text, "paid" boolean, "order_id" bigint, "customer_id" bigint, "customer_name" text, "sales_rep_id" bigint, "sales_rep_name" text, "amount" numeric, "amount_paid" numeric, "open_amount" numeric, "attributes" jsonb)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "dataset_invoices_key" ON "dataset_invoices" ("invoice_id") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "dataset_payments" ("payment_id" bigint, "payment_number" text, "payment_date" date, "month" date, "method" text, "currency" text, "invoice_id" bigint, "order_id" bigint, "customer_id" bigint, "customer_name" text, "sales_rep_id" bigint, "sales_rep_name" text, "amount" numeric, "attributes" jsonb)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "dataset_payments_key" ON "dataset_payments" ("payment_id") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "dataset_expenses" ("expense_id" bigint, "expense_number" text, "expense_date" date, "month" date, "category" text, "department" text, "vendor" text, "currency" text, "employee_id" bigint, "employee_name" text, "amount" numeric, "attributes" jsonb)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "dataset_expenses_key" ON "dataset_expenses" ("expense_id") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "dataset_customers" ("customer_id" bigint, "customer_number" text, "customer_name" text, "segment" text, "country" text, "city" text, "created_date" date, "sales_rep_id" bigint, "sales_rep_name" text, "attributes" jsonb)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "dataset_customers_key" ON "dataset_customers" ("customer_id") NULLS NOT DISTINCT',
    'CREATE TABLE IF NOT EXISTS "dataset_products" ("product_id" bigint, "sku" text, "product_name" text, "category" text, "price" numeric, "cost" numeric, "supplier_id" bigint, "supplier_name" text, "attributes" jsonb)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "dataset_products_key" ON "dataset_products" ("product_id") NULLS NOT DISTINCT',
    'CREATE INDEX IF NOT EXISTS "dataset_orders_scope" ON "dataset_orders" ("sales_rep_id", "order_date") INCLUDE ("revenue")',  # noqa: E501
    'CREATE INDEX IF NOT EXISTS "dataset_order_lines_scope" ON "dataset_order_lines" ("sales_rep_id", "order_date")',
    'CREATE INDEX IF NOT EXISTS "dataset_orders_month" ON "dataset_orders" ("month")',
    'CREATE INDEX IF NOT EXISTS "dataset_order_lines_month" ON "dataset_order_lines" ("month")',
    'CREATE INDEX IF NOT EXISTS "dataset_invoices_scope" ON "dataset_invoices" ("sales_rep_id", "invoice_date")',
    'CREATE INDEX IF NOT EXISTS "dataset_payments_scope" ON "dataset_payments" ("sales_rep_id", "payment_date")',
    'CREATE INDEX IF NOT EXISTS "dataset_expenses_scope" ON "dataset_expenses" ("employee_id", "expense_date")',
    'CREATE INDEX IF NOT EXISTS "dataset_expenses_month" ON "dataset_expenses" ("month")',
    'CREATE INDEX IF NOT EXISTS "dataset_customers_scope" ON "dataset_customers" ("sales_rep_id")',
]
BACKWARD = [
    f'DROP TABLE IF EXISTS "dataset_{name}"'
    for name in ("orders", "order_lines", "invoices", "payments", "expenses", "customers", "products")
]


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0016_merge_line_amounts_and_memberships")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
