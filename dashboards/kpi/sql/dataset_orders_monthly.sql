-- Read-side aggregate of dataset_orders for questions: each month's orders per rep, every amount summed and its values
-- counted (an average is the sum over the count of values, as avg() takes it; a count of a column counts its values).
-- A VP's revenue by month reads one row per month and rep instead of every order.
SELECT month, sales_rep_id,
       sum(revenue) AS revenue, sum(amount) AS amount, sum(shipping_amount) AS shipping_amount,
       sum(tax_amount) AS tax_amount, sum(discount_amount) AS discount_amount, sum(line_count) AS line_count,
       sum(cogs) AS cogs, count(*) AS order_count,
       count(revenue) AS revenue_count, count(amount) AS amount_count, count(shipping_amount) AS shipping_amount_count,
       count(tax_amount) AS tax_amount_count, count(discount_amount) AS discount_amount_count,
       count(line_count) AS line_count_count, count(cogs) AS cogs_count
FROM {source}
GROUP BY month, sales_rep_id
