-- The access generation: a number that grows with every committed change to what decides a user's access and row
-- scope (roles, users' employees, the hierarchy, shares, dashboards and their widgets). Cached scopes and poll
-- contexts are stored under the generation read before them and used only while it is unchanged
-- (accounts.selectors.access_generation). Bumped by statement-level triggers, so nothing bypasses it: a
-- QuerySet.update(), a bulk insert, raw SQL, COPY and TRUNCATE all fire them, inside the writing transaction (a
-- reader sees the new number exactly when it sees the change).
-- One counter per watched table, summed: a long transaction writing employees (an upload) holds the lock of its
-- own table's row only, and the sum still grows with every commit. Created by accounts migration 0007.
CREATE TABLE IF NOT EXISTS access_generation (
    table_name text PRIMARY KEY,
    n bigint NOT NULL DEFAULT 0
);

CREATE OR REPLACE FUNCTION access_generation_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO access_generation AS g (table_name, n) VALUES (TG_TABLE_NAME, 1)
    ON CONFLICT (table_name) DO UPDATE SET n = g.n + 1;
    RETURN NULL;
END
$$;

-- access_generation_watch(table, columns): bump on every INSERT, DELETE and TRUNCATE of the table, and on an UPDATE
-- that sets one of `columns` (every UPDATE when NULL): an UPDATE of last_login alone changes nobody's access.
CREATE OR REPLACE FUNCTION access_generation_watch(tbl regclass, columns text[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    of_columns text := '';
BEGIN
    IF columns IS NOT NULL THEN
        SELECT ' OF ' || string_agg(quote_ident(c), ', ') INTO of_columns FROM unnest(columns) AS c;
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS access_generation_bump ON %s', tbl);
    EXECUTE format(
        'CREATE TRIGGER access_generation_bump AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE%s ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION access_generation_bump()',
        of_columns, tbl
    );
END
$$;
