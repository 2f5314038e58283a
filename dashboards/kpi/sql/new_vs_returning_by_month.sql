-- Read-side aggregate of new_vs_returning_customers: one row per month, every rep summed (an executive's read by
-- month without a date range: 60 rows, not distinct counts over 900,000 membership rows at 1M orders). The customer
-- counts are left NULL here (a customer of two reps in a month is one customer): the refresh counts them from
-- new_vs_returning_members (registry `distinct_from`). Undated in the registry: a read with a date range counts
-- from the membership table.
SELECT month, NULL::bigint AS new_customers, NULL::bigint AS returning_customers,
       sum(new_revenue) AS new_revenue, sum(returning_revenue) AS returning_revenue
FROM {source}
GROUP BY month
