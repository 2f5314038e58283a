"""Reads that may go to the streaming standby (`replica`), and read-your-own-upload.

Dashboard reads (KPI rows, freshness, the data API) ask `read_alias(user)` which database to read. Without a
standby that is always `default`. With one it is `replica`, except for a user whose execution committed on the
primary at a WAL position the standby has not replayed yet (`primary_lsn_remember` after the commit): their
reads stay on the primary until `pg_last_wal_replay_lsn()` reaches it, so nobody sees their own upload missing.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

PRIMARY = "default"
REPLICA = "replica"


def replica_configured() -> bool:
    return REPLICA in connections.settings  # settings.DATABASES as Django's connections were configured


def _lsn_key(user_id: int) -> str:
    return f"replica:wrote-lsn:v1:{user_id}"


def primary_lsn_remember(*, user_id: int | None) -> str | None:
    """Remember the primary's current WAL position (after a commit of `user_id`'s): their reads wait for it.

    Called after the commit, so the position is at or past the commit record. Returns the LSN (None when no
    standby is configured or there is no user).
    """
    if user_id is None or not replica_configured():
        return None
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        lsn = cursor.fetchone()[0]
    try:
        cache.set(_lsn_key(user_id), lsn, settings.READ_YOUR_WRITES_SECONDS)
    except Exception:  # the cache is down: reads check it, fail closed and go to the primary meanwhile
        logger.warning("could not remember the commit position of user %s", user_id, exc_info=True)
    return lsn


def replica_has_replayed(lsn: str) -> bool:
    """Whether the standby has replayed the WAL up to `lsn` (a server not in recovery has everything)."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT pg_last_wal_replay_lsn() IS NULL OR pg_last_wal_replay_lsn() >= %s::pg_lsn",
            [lsn],
        )
        return bool(cursor.fetchone()[0])


def read_alias(user) -> str:
    """The database to read `user`'s dashboard data from: the standby when it is configured and has replayed
    the user's last execution, else the primary. Any doubt (cache or standby unreachable) reads the primary."""
    if not replica_configured():
        return PRIMARY
    user_id = getattr(user, "pk", None)
    if user_id is None:
        return REPLICA
    try:
        lsn = cache.get(_lsn_key(user_id))
    except Exception:
        logger.warning("cache unavailable: reading from the primary", exc_info=True)
        return PRIMARY
    if lsn is None:
        return REPLICA
    # The entry is left to expire, not deleted once replayed: a delete could drop a newer execution's position.
    try:
        return REPLICA if replica_has_replayed(lsn) else PRIMARY
    except DatabaseError:
        logger.warning("standby unreachable: reading from the primary", exc_info=True)
        return PRIMARY
