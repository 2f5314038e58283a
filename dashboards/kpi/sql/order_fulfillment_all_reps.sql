-- Read-side aggregate of order_fulfillment: every rep's orders per month and status (average days to ship is
-- not additive: a reader divides the summed days by the summed shipped orders).
SELECT month, status, sum(order_count) AS order_count, sum(shipped_count) AS shipped_count,
       sum(total_days_to_ship) AS total_days_to_ship
FROM {source}
GROUP BY month, status
