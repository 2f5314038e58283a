-- Team aggregate of new_vs_returning_customers: per team and month, the distinct customers new or returning under
-- any of the team's reps (members: the aggregate's hierarchy snapshot) and their revenue. Counted here from
-- new_vs_returning_members, refreshed before it in the view's transaction (a customer of two reps of a team is one
-- customer: the view's per-rep counts do not add up). A VP's monthly read takes their team's 60 stored rows, not a
-- distinct count over 88 reps' membership rows at 1M orders. The view is refreshed in full, and so are these rows.
SELECT m.team_id, r.month,
       count(DISTINCT r.customer_id) FILTER (WHERE r.is_new) AS new_customers,
       count(DISTINCT r.customer_id) FILTER (WHERE r.is_returning) AS returning_customers,
       sum(r.new_revenue) AS new_revenue, sum(r.returning_revenue) AS returning_revenue
FROM new_vs_returning_members r
JOIN {members} m ON m.employee_id = r.sales_rep_id
GROUP BY m.team_id, r.month
