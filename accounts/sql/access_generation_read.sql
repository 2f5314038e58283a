-- The current access generation (accounts/sql/access_generation.sql): the sum of the watched tables' counters.
SELECT coalesce(sum(n), 0)::bigint FROM access_generation
