-- Read-side aggregate of new_vs_returning_customers: each rep's months summed (a read without a date range). The
-- customer counts are left NULL here (months' distinct counts do not add up): the refresh counts them from
-- new_vs_returning_members_all_time (registry `distinct_from`).
SELECT sales_rep_id, NULL::bigint AS new_customers, NULL::bigint AS returning_customers,
       sum(new_revenue) AS new_revenue, sum(returning_revenue) AS returning_revenue
FROM {source}
GROUP BY sales_rep_id
