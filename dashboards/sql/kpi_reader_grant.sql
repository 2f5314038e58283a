-- Lets the application's own (possibly non-superuser) login switch to the reader role.
GRANT {role} TO CURRENT_USER;
