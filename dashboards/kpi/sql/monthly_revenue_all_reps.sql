-- Read-side aggregate of monthly_revenue: every rep's revenue and orders per month (an executive's read).
SELECT month, sum(revenue) AS revenue, sum(order_count) AS order_count
FROM {source}
GROUP BY month
