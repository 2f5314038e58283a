-- Read-side aggregate of new_vs_returning_customers: one row, every rep's months summed (an executive's read without
-- a date range). The customer counts are left NULL here: the refresh counts them from
-- new_vs_returning_members_all_time (registry `distinct_from`).
SELECT NULL::bigint AS new_customers, NULL::bigint AS returning_customers,
       sum(new_revenue) AS new_revenue, sum(returning_revenue) AS returning_revenue
FROM {source}
