-- Read-side aggregate of dataset_orders for questions by week: each week's orders per month and rep (a week across two
-- months has a row in each), every amount summed and its values counted, as dataset_orders_monthly.sql. A VP's revenue
-- by week reads one row per week and rep instead of every order.
SELECT date_trunc('week', order_date)::date AS week, month, sales_rep_id,
       sum(revenue) AS revenue, sum(amount) AS amount, sum(shipping_amount) AS shipping_amount,
       sum(tax_amount) AS tax_amount, sum(discount_amount) AS discount_amount, sum(line_count) AS line_count,
       sum(cogs) AS cogs, count(*) AS order_count,
       count(revenue) AS revenue_count, count(amount) AS amount_count, count(shipping_amount) AS shipping_amount_count,
       count(tax_amount) AS tax_amount_count, count(discount_amount) AS discount_amount_count,
       count(line_count) AS line_count_count, count(cogs) AS cogs_count
FROM {source}
GROUP BY 1, month, sales_rep_id
