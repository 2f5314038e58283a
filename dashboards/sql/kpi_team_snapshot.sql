-- The hierarchy a team aggregate is built with: every employee with reports (a team) and its members, sorted:
-- employee_subtree(team), the same set as a manager's row scope (accounts/sql/employee_subtree.sql).
-- With %(first_line)s, only first-line teams: an employee none of whose reports has reports of their own
-- (tested once per team, not once per member); with %(below_top)s too, every team whose employee has a manager
-- (a VP's): all teams but the top's.
-- members_digest: md5 of the ids joined by commas (dashboards.kpi.query.members_digest computes the same for a scope):
-- a read finds its team by it through an index, as the reader role (text equality may run before the row-level
-- policy; the comparison of id arrays may not, and checked the policy against every snapshot row first).
INSERT INTO kpi_team_snapshots (aggregate_name, team_id, members, members_digest)
SELECT %(aggregate)s, t.team_id, s.members, md5(array_to_string(s.members, ','))
FROM (SELECT DISTINCT manager_id AS team_id FROM canonical_employees WHERE manager_id IS NOT NULL) t
CROSS JOIN LATERAL (SELECT ARRAY(SELECT m FROM employee_subtree(t.team_id) AS m ORDER BY m) AS members) s
WHERE NOT %(first_line)s OR NOT EXISTS (
    SELECT 1 FROM canonical_employees r JOIN canonical_employees rr ON rr.manager_id = r.id
    WHERE r.manager_id = t.team_id AND r.id <> t.team_id
) OR (%(below_top)s AND EXISTS (
    SELECT 1 FROM canonical_employees b WHERE b.id = t.team_id AND b.manager_id IS NOT NULL AND b.manager_id <> b.id
))
