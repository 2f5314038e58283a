-- All-time membership of sales_rep_performance: the (sales rep, customer) pairs of sales_rep_customers ({source}: all
-- of it, or the refreshed months' rows). A refresh inserts the months' new pairs and deletes the pairs its months
-- held that no month holds any more (`_pairs_refresh`): a month of orders from known pairs writes nothing here. The
-- rep's name is the same in every month.
SELECT sales_rep_id, min(rep_name) AS rep_name, customer_id
FROM {source}
GROUP BY sales_rep_id, customer_id
