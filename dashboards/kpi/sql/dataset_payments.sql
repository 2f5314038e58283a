-- Payments dataset: each payment with its invoice and order (its own, else its invoice's), its customer (its own,
-- else the invoice's, else the order's) and rep (the order's, else the customer's), as collections counts them.
SELECT p.id AS payment_id, p.external_id AS payment_number, p.payment_date,
       date_trunc('month', p.payment_date::timestamp)::date AS month,
       COALESCE(NULLIF(p.method, ''), 'Unknown') AS method, p.currency, p.invoice_id,
       COALESCE(p.order_id, i.order_id) AS order_id,
       COALESCE(p.customer_id, i.customer_id, o.customer_id) AS customer_id, COALESCE(c.name, '') AS customer_name,
       COALESCE(o.sales_rep_id, c.sales_rep_id) AS sales_rep_id, COALESCE(e.name, 'Unassigned') AS sales_rep_name,
       p.amount,
       p.attributes
FROM canonical_payments p
LEFT JOIN canonical_invoices i ON i.id = p.invoice_id
LEFT JOIN canonical_orders o ON o.id = COALESCE(p.order_id, i.order_id)
LEFT JOIN canonical_customers c ON c.id = COALESCE(p.customer_id, i.customer_id, o.customer_id)
LEFT JOIN canonical_employees e ON e.id = COALESCE(o.sales_rep_id, c.sales_rep_id)
