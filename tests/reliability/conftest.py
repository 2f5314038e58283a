"""Helpers for fault tests: raw connections to the test database, outside Django's connection handling."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import psycopg.sql
import pytest

from tests.database import database_conninfo, database_url


def raw_connect(autocommit: bool = True) -> psycopg.Connection:
    """A separate session on the test database (a blocker, an observer or a killer)."""
    return psycopg.connect(database_conninfo(), autocommit=autocommit)


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def backend_waiting_on_lock(observer: psycopg.Connection, *, exclude: set[int]) -> int | None:
    """The pid of a session of this database that is waiting on a lock (not one of `exclude`)."""
    rows = observer.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
        "AND pid <> ALL(%s)",
        [list(exclude)],
    ).fetchall()
    return rows[0][0] if rows else None


@pytest.fixture
def observer():
    conn = raw_connect()
    yield conn
    conn.close()


def test_database_url() -> str:
    """DATABASE_URL of the test database, for processes the test starts (a Celery worker)."""
    return database_url()


@contextmanager
def writes_held(table: str) -> Iterator[psycopg.Connection]:
    """Another session holds a SHARE lock on `table` until the block ends: reads go on, writes wait.

    An execution that reaches its first write to `table` waits there inside its transaction, however fast
    it is, so a test can kill it mid-way without racing it.
    """
    blocker = raw_connect(autocommit=False)
    try:
        blocker.execute(psycopg.sql.SQL("LOCK TABLE {} IN SHARE MODE").format(psycopg.sql.Identifier(table)))
        yield blocker
    finally:
        blocker.rollback()
        blocker.close()


def wait_for_a_session_waiting_on(blocker: psycopg.Connection, observer: psycopg.Connection) -> int:
    """The pid of the session (an execution) that came to wait for `blocker`'s lock, once there is one."""
    return wait_for(
        lambda: backend_waiting_on_lock(observer, exclude={blocker.info.backend_pid}),
        timeout=60,
        what="the execution to wait inside its transaction at its first write",
    )
