"""Read routing: dashboard reads go to the `replica` alias when there is one, writes and repairs to the primary,
and a user whose execution just committed reads from the primary until the standby has replayed it.

The normal suite has no standby: `replica` here is a second connection to the test database (a server not in
recovery has replayed everything) or a closed port (a standby that is down). `make test-scaleout` runs the same
paths against a real streaming standby whose replay it pauses (tests/scaleout/).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from psycopg import sql

from accounts.selectors import user_row_scope
from config.replica import PRIMARY, REPLICA, _lsn_key, primary_lsn_remember, read_alias
from dashboards import selectors
from dashboards.kpi import read
from dashboards.kpi.rls import KPI_READER_ROLE
from dashboards.services.dashboards import dashboard_create
from dashboards.services.widgets import widget_create
from tests.dashboards.conftest import SALES_KPI
from tests.dashboards.kpi_helpers import stand_in_kpi_create, stand_in_kpi_drop
from tests.mappings.helpers import field, run, upload_text
from tests.replica import replica_alias, replica_down

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture(scope="module", autouse=True)
def replica(django_db_setup):
    with replica_alias():
        yield


READ_SQL = "set_config('ledgerlight.kpi_scope'"
FRESHNESS_SQL = "Freshness of several KPI views"
DDL_WORDS = ("CREATE ", "ALTER ", "GRANT ", "DROP ", "REVOKE ")


@pytest.fixture
def sales_kpi_committed(nw_employees, monkeypatch):
    """The stand-in KPI table, committed (the replica alias is another session)."""
    rows = [
        (month, nw_employees[ext].pk, Decimal(amount), 1)
        for ext, amount in {"1": "100.10", "5": "50.00", "6": "7.25", "3": "1000"}.items()
        for month in (date(2024, 1, 1), date(2024, 2, 1))
    ]
    stand_in_kpi_create(monkeypatch, SALES_KPI, rows)
    yield nw_employees
    stand_in_kpi_drop(SALES_KPI)


def statements_like(captured, marker: str) -> int:
    return sum(marker in q["sql"] for q in captured)


def test_without_a_standby_every_dashboard_read_goes_to_the_primary(rep, monkeypatch):
    monkeypatch.delitem(connections.settings, REPLICA)
    assert read_alias(rep) == PRIMARY
    assert primary_lsn_remember(user_id=rep.pk) is None


def test_with_a_standby_a_reps_rows_are_read_there_and_equal_the_primarys(rep, sales_kpi_committed):
    on_primary = selectors.kpi_rows_for_user(user=rep, view_name=SALES_KPI.name)
    cache.clear()
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_standby,
        CaptureQueriesContext(connection) as on_default,
    ):
        rows = selectors.kpi_rows_for_user(user=rep, view_name=SALES_KPI.name)
    assert rows == on_primary
    assert {r["sales_rep_id"] for r in rows} == {sales_kpi_committed["1"].pk}
    assert statements_like(on_standby.captured_queries, READ_SQL) == 1
    assert statements_like(on_standby.captured_queries, FRESHNESS_SQL) == 1
    assert statements_like(on_default.captured_queries, READ_SQL) == 0


def test_row_level_security_holds_on_the_replica_connection(manager, rep, outsider, sales_kpi_committed):
    forgetful = sql.SQL("SELECT sales_rep_id FROM {}").format(sql.Identifier(SALES_KPI.name))
    seen = {
        user.username: {
            r["sales_rep_id"] for r in read._scoped_read(user_row_scope(user), [(forgetful, [])], using=REPLICA)[0]
        }
        for user in (manager, rep, outsider)
    }
    employees = sales_kpi_committed
    assert seen == {
        "buchanan": {employees["5"].pk, employees["6"].pk},
        "davolio": {employees["1"].pk},
        "outsider": set(),
    }


def test_a_missing_policy_is_repaired_on_the_primary_never_on_the_read_connection(manager, sales_kpi_committed):
    with connection.cursor() as cursor:
        cursor.execute(f'REVOKE SELECT ON {SALES_KPI.name} FROM "{KPI_READER_ROLE}"')
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_standby,
        CaptureQueriesContext(connection) as on_default,
    ):
        rows = selectors.kpi_rows_for_user(user=manager, view_name=SALES_KPI.name)
    employees = sales_kpi_committed
    assert {r["sales_rep_id"] for r in rows} == {employees["5"].pk, employees["6"].pk}
    assert not [q["sql"] for q in on_standby.captured_queries if q["sql"].lstrip().upper().startswith(DDL_WORDS)]
    assert any("GRANT SELECT" in q["sql"] for q in on_default.captured_queries)
    # The retry after the repair ran on the primary, which has the grant for sure.
    assert statements_like(on_default.captured_queries, READ_SQL) == 1


def test_a_standby_that_is_down_is_not_an_error_the_primary_answers(rep, sales_kpi_committed):
    on_primary = selectors.kpi_rows_for_user(user=rep, view_name=SALES_KPI.name)
    cache.clear()
    with replica_down():
        rows = selectors.kpi_rows_for_user(user=rep, view_name=SALES_KPI.name)
    assert rows == on_primary and rows


def test_an_executed_upload_remembers_its_users_commit_position_and_a_caught_up_standby_serves_them(
    executive, tmp_path
):
    source = upload_text(tmp_path, "customer_id,company\nC1,Alfreds\nC2,Berglunds\n", user=executive)
    fields = [
        field("customer_id", "canonical_customers", "external_id"),
        field("company", "canonical_customers", "name"),
    ]
    job = run(source, fields, user=executive)
    assert job.status == "succeeded", job.error
    remembered = cache.get(_lsn_key(executive.pk))
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::pg_lsn <= pg_current_wal_lsn()", [remembered])
        assert cursor.fetchone()[0] is True
    # A server not in recovery (here the primary itself) has replayed everything: the standby serves them.
    assert read_alias(executive) == REPLICA


def test_the_dashboard_data_api_reads_from_the_standby(executive, sales_kpi_committed, client):
    dashboard = dashboard_create(title="Routed", owner=executive)
    widget_create(dashboard=dashboard, title="Revenue", view_name=SALES_KPI.name, chart_type="table", vega_spec={})
    client.force_login(executive)
    with CaptureQueriesContext(connections[REPLICA]) as on_standby:
        response = client.get(f"/api/dashboard/{dashboard.pk}/data")
    assert response.status_code == 200
    assert len(response.json()["widgets"][0]["rows"]) == 8
    assert statements_like(on_standby.captured_queries, READ_SQL) == 1


def test_a_freshness_read_on_a_standby_behind_the_last_refresh_is_not_cached(rep, sales_kpi_committed, monkeypatch):
    # A refresh recorded its state: the primary's position is remembered (after the commit) and the cached freshness
    # dropped. A standby read before it replays that position sees the state before the refresh: cached, it would be
    # served for seconds after the standby caught up, with the rows cached under the old stamp.
    from dashboards.polling import poll_freshness_invalidate

    poll_freshness_invalidate()  # outside a transaction: the on-commit part runs at once
    assert cache.get(selectors.FRESHNESS_POSITION_KEY)
    monkeypatch.setattr(selectors, "replica_has_replayed", lambda lsn: False)
    selectors.kpi_rows_for_user(user=rep, view_name=SALES_KPI.name)
    assert cache.get(selectors.FRESHNESS_CACHE_KEY) is None

    monkeypatch.setattr(selectors, "replica_has_replayed", lambda lsn: True)  # caught up
    selectors.kpi_rows_for_user(user=rep, view_name=SALES_KPI.name)
    assert SALES_KPI.name in cache.get(selectors.FRESHNESS_CACHE_KEY)
