-- Everything `accounts.selectors.user_row_scope` needs in one round trip: the user's role names (groups)
-- and, only when those roles make the scope a manager's subtree, the linked employee and everyone below
-- them (employee_subtree, accounts/sql/employee_subtree.sql). The role rule itself stays in Python (passed in).
SELECT r.roles,
       CASE WHEN %(subtree_role)s = ANY(r.roles) AND NOT r.roles && %(all_rows_roles)s::text[]
            THEN ARRAY(SELECT employee_subtree(%(employee_id)s))
       END AS subtree
FROM (
    SELECT ARRAY(
        SELECT g.name
        FROM auth_group g
        JOIN accounts_user_groups ug ON ug.group_id = g.id
        WHERE ug.user_id = %(user_id)s
    )::text[] AS roles
) r
