-- All-time membership of new_vs_returning_customers: new_vs_returning_members ({source}) summed per sales rep and
-- customer. New under the rep if any of its months is the customer's first, returning if any is a later one. bool_or
-- does not add up month by month: the view's strategy is full (a back-dated order changes which month is first), so
-- this is always summed from the whole membership table.
SELECT sales_rep_id, customer_id, bool_or(is_new) AS is_new, bool_or(is_returning) AS is_returning,
       sum(new_revenue) AS new_revenue, sum(returning_revenue) AS returning_revenue, count(*) AS month_count
FROM {source}
GROUP BY sales_rep_id, customer_id
