-- Orders whose source had no amount carry the sum of their lines' amounts (amount_from_lines).
WITH totals AS (
    SELECT o.id, (SELECT sum(l.amount) FROM canonical_order_lines l WHERE l.order_id = o.id) AS total
    FROM canonical_orders o
    WHERE o.amount_from_lines AND (o.id = ANY(%(order_ids)s) OR o.source_id = %(orders_source_id)s)
), changed AS (
    UPDATE canonical_orders o SET amount = totals.total
    FROM totals
    WHERE o.id = totals.id AND o.amount IS DISTINCT FROM totals.total
    RETURNING o.id, o.order_date, o.customer_id, o.sales_rep_id
)
SELECT
    (SELECT count(*) FROM changed),
    (SELECT array_agg(DISTINCT to_char(date_trunc('month', order_date), 'YYYY-MM-01')) FROM changed
        WHERE order_date IS NOT NULL),
    (SELECT array_agg(DISTINCT customer_id) FROM changed WHERE customer_id IS NOT NULL),
    (SELECT array_agg(DISTINCT sales_rep_id) FROM changed WHERE sales_rep_id IS NOT NULL);
