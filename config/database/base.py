"""Django's PostgreSQL backend, whose pool sweeps every idle connection once one is found dead.

With CONN_HEALTH_CHECKS, Django gives psycopg_pool `check=ConnectionPool.check_connection`: a dead
connection is discarded as it leaves the pool, but the pool waits 1 s, 2 s, 4 s… before trying the
next, so after a restart that killed 5 idle connections a request waited past the pool's timeout and
failed. Here the first dead connection makes the pool test all its idle ones at once (`pool.check()`),
and the request gets a fresh connection.
"""

from __future__ import annotations

from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> ConnectionPool | None:
        pool = super().pool
        # `_check` is what the pool calls on each connection it hands out; Django sets it when
        # CONN_HEALTH_CHECKS is on and offers no other way to choose it.
        if pool is not None and getattr(pool, "_check", None) is ConnectionPool.check_connection:
            pool._check = _check_or_sweep
        return pool


def _check_or_sweep(conn) -> None:
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        pool = getattr(conn, "_pool", None)  # set while the pool hands the connection out
        if pool is not None:
            pool.check()  # the others died with it: replace them now, not one back-off step each
        raise
