-- The role KPI reads run as (SET LOCAL ROLE): not the tables' owner, so row-level security applies to it.
-- Roles are cluster-wide; several databases may race to create it, hence the exception handler.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {role_name}) THEN
        CREATE ROLE {role} NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
