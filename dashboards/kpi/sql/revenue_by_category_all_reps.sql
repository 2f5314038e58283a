-- Read-side aggregate of revenue_by_category: every rep's revenue and quantity per month and category.
SELECT month, category, sum(revenue) AS revenue, sum(quantity) AS quantity
FROM {source}
GROUP BY month, category
