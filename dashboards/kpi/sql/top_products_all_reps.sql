-- Read-side aggregate of top_products: each product's rows summed over its sales reps (an executive's ranking).
-- Name and category come from the product (the same for each rep); min() keeps the key unique whatever happens.
SELECT product_id, min(product_name) AS product_name, min(category) AS category,
       sum(revenue) AS revenue, sum(quantity) AS quantity, sum(line_count) AS line_count
FROM {source}
GROUP BY product_id
