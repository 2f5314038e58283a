"""Fixtures of the scale-out run (`make test-scaleout`, tests/scaleout/run.py): the topology is up, these start
the two Celery workers behind PgBouncer and wait for the standby. Outside that run every test here is skipped."""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection, connections

from config.replica import REPLICA
from tests.reliability.test_execution_behind_pgbouncer import POOLED
from tests.reliability.workers import routed_workers

SCALEOUT = os.environ.get("SCALEOUT") == "1"


def pytest_collection_modifyitems(config, items):
    if SCALEOUT:
        return
    skip = pytest.mark.skip(reason="needs the scale-out topology: run `make test-scaleout`")
    for item in items:
        if item.get_closest_marker("scaleout"):
            item.add_marker(skip)


def pgbouncer_url(dbname: str) -> str:
    return f"postgresql://postgres@127.0.0.1:{os.environ['SCALEOUT_PGBOUNCER_PORT']}/{dbname}"


def standby_url(dbname: str) -> str:
    return f"postgresql://postgres@127.0.0.1:{os.environ['SCALEOUT_STANDBY_PORT']}/{dbname}"


@pytest.fixture
def observer():
    from tests.reliability.conftest import raw_connect

    conn = raw_connect()
    yield conn
    conn.close()


@pytest.fixture
def workers(db, tmp_path):
    """Started per test: a transactional test's flush renumbers content types, which a worker caches (audit log
    rows would point at ids gone), and tasks a test left queued must not run in the next one."""
    dbname = connection.settings_dict["NAME"]
    # Workers reach the primary through PgBouncer: one connection per process, no session state.
    extra_env = {**POOLED, "DATABASE_REPLICA_URL": standby_url(dbname)}
    # Each worker is another machine: its own cache of uploads, filled from the bucket only.
    with routed_workers(
        tmp_path, database_url=pgbouncer_url(dbname), extra_env=extra_env, own_upload_cache=True
    ) as running:
        yield running


def replayed(timeout: float = 30) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    with connections[REPLICA].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby did not replay {target} within {timeout} s")
            time.sleep(0.05)
