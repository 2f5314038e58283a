-- Read-side aggregate of customer_segments: one row per segment, every rep and country summed (an executive's read
-- by segment: 4 rows, not a distinct count over 200,000 membership rows at 1M orders). The customer count is left
-- NULL here (a customer sold to by two reps is one customer): the refresh counts it from customer_segment_members
-- (registry `distinct_from`).
SELECT segment, NULL::bigint AS customer_count, sum(order_count) AS order_count, sum(revenue) AS revenue
FROM {source}
GROUP BY segment
