-- The user a session or token names, with what requests check read in the same statement: the access generation
-- (cached scopes and dashboards are checked against it) and the user's role names (the site menu, upload rights).
-- {columns}: the user model's columns, {generation}: access_generation_read.sql (accounts.selectors).
SELECT {columns},
       ({generation}) AS access_generation,
       ARRAY(
           SELECT g.name
           FROM accounts_user_groups ug
           JOIN auth_group g ON g.id = ug.group_id
           WHERE ug.user_id = u.id
       ) AS role_names
FROM accounts_user u
WHERE u.id = %(user_id)s
