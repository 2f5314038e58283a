"""The database restarts under a running app (every backend of its pool is killed): the requests that
follow must all succeed, not fail once per dead pooled connection."""

from __future__ import annotations

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from accounts.services import api_token_create
from config.settings.base import db_pool_options
from tests.reliability.conftest import raw_connect

POOL_SIZE = 8  # DB_POOL_MAX's default: the attack killed 8 backends


@pytest.fixture
def pooled_connection(transactional_db):
    """The app's own pool settings on the test database (test settings run without a pool; the
    rest, CONN_HEALTH_CHECKS included, is the app's)."""
    options = connection.settings_dict["OPTIONS"]
    connection.close()
    options["pool"] = {**db_pool_options(), "min_size": POOL_SIZE, "max_size": POOL_SIZE}
    try:
        yield connection
    finally:
        connection.close()
        connection.close_pool()
        del options["pool"]


def _request(client: Client, key: str) -> int:
    # What Django does around every request (the test client skips it): take a connection, give it back.
    close_old_connections()
    try:
        return client.get("/api/dashboards/", HTTP_AUTHORIZATION=f"Token {key}").status_code
    finally:
        close_old_connections()


def test_requests_after_the_database_kills_every_pooled_connection_all_succeed(pooled_connection, rep):
    key = api_token_create(user=rep).key
    client = Client(raise_request_exception=False)
    assert _request(client, key) == 200
    pool = pooled_connection.pool
    pool.wait(timeout=10)  # every pooled connection open, as in a process that has served a while
    assert pool.get_stats()["pool_size"] == POOL_SIZE

    with raw_connect() as killer:
        killed = killer.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).fetchone()[0]
    assert killed >= POOL_SIZE

    statuses = [_request(client, key) for _ in range(3 * POOL_SIZE)]
    assert statuses == [200] * len(statuses)
