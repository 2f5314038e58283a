-- Invoices dataset: each invoice with what was paid (payment rows, else its amount_paid, else all of it when marked
-- paid, as ar_aging counts it), its customer (its own, else its order's) and rep (the order's, else the customer's).
WITH paid AS (
    SELECT invoice_id, sum(COALESCE(amount, 0)) AS paid FROM canonical_payments WHERE invoice_id IS NOT NULL
    GROUP BY invoice_id
)
SELECT i.id AS invoice_id, i.external_id AS invoice_number, i.invoice_date,
       date_trunc('month', i.invoice_date::timestamp)::date AS month, i.due_date, i.paid_date,
       COALESCE(NULLIF(i.status, ''), 'Unknown') AS status, i.currency, i.paid, i.order_id,
       COALESCE(i.customer_id, o.customer_id) AS customer_id, COALESCE(c.name, '') AS customer_name,
       COALESCE(o.sales_rep_id, c.sales_rep_id) AS sales_rep_id, COALESCE(e.name, 'Unassigned') AS sales_rep_name,
       i.amount, COALESCE(paid.paid, i.amount_paid, CASE WHEN i.paid THEN i.amount ELSE 0 END, 0) AS amount_paid,
       COALESCE(i.amount, 0) - COALESCE(paid.paid, i.amount_paid, CASE WHEN i.paid THEN i.amount ELSE 0 END, 0)
           AS open_amount,
       i.attributes
FROM canonical_invoices i
LEFT JOIN canonical_orders o ON o.id = i.order_id
LEFT JOIN canonical_customers c ON c.id = COALESCE(i.customer_id, o.customer_id)
LEFT JOIN canonical_employees e ON e.id = COALESCE(o.sales_rep_id, c.sales_rep_id)
LEFT JOIN paid ON paid.invoice_id = i.id
