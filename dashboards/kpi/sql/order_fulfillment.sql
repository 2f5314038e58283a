-- Orders per month, sales rep and status; shipped orders and days from order to shipment.
-- The customer's rep is looked up only for an order without one (COALESCE evaluates the subquery only then),
-- not joined for every order, which made a month's recompute read mostly customer pages. An order with no date
-- yet (a placeholder its lines created) is in no month.
SELECT date_trunc('month', o.order_date::timestamp)::date AS month,
       COALESCE(o.sales_rep_id, (SELECT c.sales_rep_id FROM canonical_customers c WHERE c.id = o.customer_id))
           AS sales_rep_id,
       -- An export without a status column (Northwind) still tells shipped from open orders.
       COALESCE(NULLIF(o.status, ''), CASE WHEN o.shipped_date IS NOT NULL THEN 'shipped' ELSE 'open' END) AS status,
       count(*) AS order_count,
       count(o.shipped_date) AS shipped_count,
       COALESCE(sum(o.shipped_date - o.order_date), 0) AS total_days_to_ship,
       round(avg(o.shipped_date - o.order_date), 2) AS avg_days_to_ship
FROM canonical_orders o
WHERE (%(all)s AND o.order_date IS NOT NULL OR (o.order_date >= %(lo)s AND o.order_date < %(hi)s
       AND date_trunc('month', o.order_date::timestamp)::date = ANY(%(months)s::date[])))
GROUP BY 1, 2, 3
