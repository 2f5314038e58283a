-- Invoiced (by invoice month) vs collected (by payment month) per sales rep; open receivables at month
-- end (cumulative invoiced minus cumulative collected) and DSO = open / invoiced x days in the month.
-- Collected: payment rows; an invoice without payment rows counts its amount_paid on its paid_date.
WITH inv AS (
    SELECT i.id, i.invoice_date, i.amount, i.amount_paid, i.paid_date,
           COALESCE(o.sales_rep_id, c.sales_rep_id) AS sales_rep_id
    FROM canonical_invoices i
    LEFT JOIN canonical_orders o ON o.id = i.order_id
    LEFT JOIN canonical_customers c ON c.id = COALESCE(i.customer_id, o.customer_id)
), movements AS (
    SELECT date_trunc('month', invoice_date::timestamp)::date AS month, sales_rep_id,
           COALESCE(amount, 0) AS invoiced, 0::numeric AS collected
    FROM inv WHERE invoice_date IS NOT NULL
    UNION ALL
    SELECT date_trunc('month', p.payment_date::timestamp)::date, COALESCE(inv.sales_rep_id, c.sales_rep_id),
           0, COALESCE(p.amount, 0)
    FROM canonical_payments p
    LEFT JOIN inv ON inv.id = p.invoice_id
    LEFT JOIN canonical_customers c ON c.id = p.customer_id
    WHERE p.payment_date IS NOT NULL
    UNION ALL
    SELECT date_trunc('month', inv.paid_date::timestamp)::date, inv.sales_rep_id, 0, inv.amount_paid
    FROM inv
    WHERE inv.paid_date IS NOT NULL AND inv.amount_paid IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM canonical_payments p WHERE p.invoice_id = inv.id)
), monthly AS (
    SELECT month, sales_rep_id, sum(invoiced) AS invoiced, sum(collected) AS collected
    FROM movements GROUP BY month, sales_rep_id
), running AS (
    SELECT monthly.*,
           sum(invoiced - collected) OVER (PARTITION BY sales_rep_id ORDER BY month) AS open_at_month_end
    FROM monthly
)
SELECT month, sales_rep_id, invoiced, collected, open_at_month_end,
       round(open_at_month_end / NULLIF(invoiced, 0)
             * extract(day FROM (month + interval '1 month' - interval '1 day')), 1) AS dso
FROM running
