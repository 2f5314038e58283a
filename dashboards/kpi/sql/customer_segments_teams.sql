-- Team aggregate of customer_segments: per team and segment, the distinct customers sold to by any of the team's
-- reps (members: the aggregate's hierarchy snapshot), their orders and revenue. Counted here from
-- customer_segment_members, refreshed before it in the view's transaction (a customer of two reps of a team is one
-- customer: the view's per-rep counts do not add up). A VP's read by segment takes their team's 4 stored rows, not a
-- distinct count over 88 reps' membership rows at 1M orders. The view is refreshed in full, and so are these rows.
SELECT m.team_id, r.segment, count(DISTINCT r.customer_id) AS customer_count,
       sum(r.order_count) AS order_count, sum(r.revenue) AS revenue
FROM customer_segment_members r
JOIN {members} m ON m.employee_id = r.sales_rep_id
GROUP BY m.team_id, r.segment
