-- All-time membership of sales_rep_performance: sales_rep_customers ({source}: all of it, or the refreshed months'
-- rows) summed per sales rep and customer. month_count (the months with orders) is what keeps a pair: a refresh adds
-- the months' difference and drops a pair whose count reaches 0. The rep's name is the same in every month.
SELECT sales_rep_id, min(rep_name) AS rep_name, customer_id,
       sum(revenue) AS revenue, sum(order_count) AS order_count, count(*) AS month_count
FROM {source}
GROUP BY sales_rep_id, customer_id
