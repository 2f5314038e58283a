-- The hierarchy a team aggregate is built with: every employee with reports (a team) and its members, sorted:
-- the employee and everyone below them in the manager_id hierarchy at any depth, the same set as
-- accounts/sql/employee_subtree.sql gives for that employee (a manager's row scope), computed for all teams at once.
-- With %(first_line)s, only first-line teams: an employee none of whose reports has reports of their own.
-- UNION (not UNION ALL) stops a cycle in bad data from recursing forever.
WITH RECURSIVE below(team_id, employee_id) AS (
    SELECT manager_id, id FROM canonical_employees WHERE manager_id IS NOT NULL
    UNION
    SELECT b.team_id, e.id FROM below b JOIN canonical_employees e ON e.manager_id = b.employee_id
)
INSERT INTO kpi_team_snapshots (aggregate_name, team_id, members)
SELECT %(aggregate)s, team_id, array_agg(employee_id ORDER BY employee_id)
FROM (SELECT team_id, employee_id FROM below UNION SELECT team_id, team_id FROM below) m
GROUP BY team_id
HAVING NOT %(first_line)s OR NOT EXISTS (
    SELECT 1 FROM canonical_employees r JOIN canonical_employees rr ON rr.manager_id = r.id
    WHERE r.manager_id = m.team_id AND r.id <> m.team_id
)
