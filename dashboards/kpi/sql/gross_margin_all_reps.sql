-- Read-side aggregate of gross_margin: every rep's revenue, cost of goods and margin per month (an executive's Gross
-- margin widgets read 60 rows, not 26,000 at 1M orders). sum() skips a rep's unknown (NULL) cost of goods and
-- margin exactly as a read summing the view's rows does, so both give the same figures; its percentage is not additive.
SELECT month, sum(revenue) AS revenue, sum(cogs) AS cogs, sum(gross_margin) AS gross_margin
FROM {source}
GROUP BY month
