-- Open receivables (invoice amount minus payments; an invoice without payment rows uses its amount_paid,
-- or its whole amount when marked paid) per customer and sales rep, in buckets of days past due as of today.
WITH paid AS (
    SELECT invoice_id, sum(COALESCE(amount, 0)) AS paid FROM canonical_payments WHERE invoice_id IS NOT NULL
    GROUP BY invoice_id
), open AS (
    SELECT COALESCE(i.customer_id, o.customer_id) AS customer_id,
           COALESCE(o.sales_rep_id, c.sales_rep_id) AS sales_rep_id,
           COALESCE(i.amount, 0) - COALESCE(
               paid.paid, i.amount_paid, CASE WHEN i.paid THEN i.amount ELSE 0 END, 0
           ) AS open_amount,
           current_date - COALESCE(i.due_date, i.invoice_date, current_date) AS days_past_due
    FROM canonical_invoices i
    LEFT JOIN canonical_orders o ON o.id = i.order_id
    LEFT JOIN canonical_customers c ON c.id = COALESCE(i.customer_id, o.customer_id)
    LEFT JOIN paid ON paid.invoice_id = i.id
)
SELECT open.customer_id, open.sales_rep_id, COALESCE(c.name, '') AS customer_name,
       COALESCE(sum(open_amount) FILTER (WHERE days_past_due <= 0), 0) AS current_due,
       COALESCE(sum(open_amount) FILTER (WHERE days_past_due BETWEEN 1 AND 30), 0) AS days_1_30,
       COALESCE(sum(open_amount) FILTER (WHERE days_past_due BETWEEN 31 AND 60), 0) AS days_31_60,
       COALESCE(sum(open_amount) FILTER (WHERE days_past_due BETWEEN 61 AND 90), 0) AS days_61_90,
       COALESCE(sum(open_amount) FILTER (WHERE days_past_due > 90), 0) AS days_90_plus,
       sum(open_amount) AS total_open,
       current_date AS as_of
FROM open
LEFT JOIN canonical_customers c ON c.id = open.customer_id
WHERE open_amount > 0
GROUP BY open.customer_id, open.sales_rep_id, c.name
