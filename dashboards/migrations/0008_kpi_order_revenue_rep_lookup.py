# The order's rep, else its customer's rep: looked up only for an order without a rep of its own (a scalar
# subquery inside COALESCE, which PostgreSQL evaluates only when the order's rep is NULL), instead of joining
# every order to its customer. Same rows, same rule. An incremental refresh of a few thousand orders no longer
# probes the customers' index once per order, and a full rebuild no longer hashes every customer when the orders
# carry their rep (bench at 1M orders, side by side: 10,000 orders by id 200 -> 145 ms; every order 10.9-13.9 s
# -> 6.9-9.6 s, load 5). Columns, names and types are unchanged, so CREATE OR REPLACE VIEW keeps dependants.

from django.db import migrations

ORDER_REVENUE_REP_LOOKUP = """CREATE OR REPLACE VIEW kpi_order_revenue AS
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

ORDER_REVENUE_JOIN = """CREATE OR REPLACE VIEW kpi_order_revenue AS
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


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0007_kpi_covering_scope_indexes")]

    operations = [migrations.RunSQL(ORDER_REVENUE_REP_LOOKUP, ORDER_REVENUE_JOIN)]
