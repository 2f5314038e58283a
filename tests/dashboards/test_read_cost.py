"""What a KPI read costs in queries: the scope and the freshness once per request, one round trip for the
reads whatever the number of widgets, and a connection left as it was (also after a failed read)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from psycopg import pq, sql

from accounts.selectors import user_get_with_access_generation, user_row_scope
from dashboards import selectors
from dashboards.kpi import read
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.kpi.rls import kpi_rls_ensure
from tests.dashboards.conftest import SALES_KPI
from tests.dashboards.test_api import api_for

SCOPE_SQL = "user_row_scope"
FRESHNESS_SQL = "Freshness of several KPI views"
READ_SQL = "set_config('ledgerlight.kpi_scope'"


def statements_like(captured, marker: str) -> int:
    return sum(marker in q["sql"] for q in captured)


def as_a_request_loads_it(user):
    """The user as a session or a token loads it, carrying the access generation (read in the same query)."""
    return user_get_with_access_generation(user.pk)


def read_statements(captured) -> list[str]:
    """What reached PostgreSQL, savepoints aside (tests run inside a transaction, the app does not)."""
    return [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]


@pytest.fixture
def sales_kpi_outside_transaction(nw_employees, monkeypatch):
    """The stand-in KPI table of conftest.sales_kpi, created for a test that runs outside a transaction."""
    monkeypatch.setitem(KPI_VIEWS, SALES_KPI.name, SALES_KPI)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS test_sales_kpi")
        cursor.execute(
            "CREATE TABLE test_sales_kpi (month date, sales_rep_id bigint, revenue numeric(14,2), order_count int)"
        )
        cursor.executemany(
            "INSERT INTO test_sales_kpi VALUES (%s, %s, %s, 1)",
            [(date(2024, 1, 1), nw_employees[ext].pk, Decimal("10.00")) for ext in ("1", "3", "5", "6")],
        )
    kpi_rls_ensure([SALES_KPI.name])
    yield nw_employees
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS test_sales_kpi")


def test_a_managers_scope_is_one_query(manager, django_assert_num_queries):
    with django_assert_num_queries(1):
        scope = user_row_scope(manager)
    assert len(scope.employee_ids) == 4


def test_a_superusers_scope_needs_no_query(admin_user, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert user_row_scope(admin_user).all_rows


def test_a_widget_read_is_scope_freshness_and_one_read(manager, sales_kpi):
    selectors.kpi_rows_for_user(user=manager, view_name="test_sales_kpi")  # the reader role's check, once
    cache.clear()
    manager = as_a_request_loads_it(manager)
    with CaptureQueriesContext(connection) as captured:
        rows = selectors.kpi_rows_for_user(user=manager, view_name="test_sales_kpi")
    statements = read_statements(captured)
    assert len(statements) == 3
    assert [SCOPE_SQL in statements[0], FRESHNESS_SQL in statements[1], READ_SQL in statements[2]] == [True] * 3
    assert {r["sales_rep_id"] for r in rows} == {sales_kpi["5"].pk, sales_kpi["6"].pk}


def test_dashboard_data_reads_scope_freshness_and_rows_once_for_all_its_widgets(sales_dashboard, manager):
    client = api_for(manager)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/dashboard/{sales_dashboard.pk}/data")
    assert response.status_code == 200
    assert len(response.json()["widgets"]) == 3
    counts = [statements_like(captured.captured_queries, m) for m in (SCOPE_SQL, FRESHNESS_SQL, READ_SQL)]
    assert counts == [1, 1, 1]


def test_a_widget_partial_reads_scope_and_freshness_once(client, sales_dashboard, manager):
    widget = sales_dashboard.widgets.get(title="Monthly revenue")
    client.force_login(manager)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/dashboards/{sales_dashboard.slug}/widgets/{widget.pk}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    counts = [statements_like(captured.captured_queries, m) for m in (SCOPE_SQL, FRESHNESS_SQL, READ_SQL)]
    assert counts == [1, 1, 1]


@pytest.mark.django_db(transaction=True)
def test_a_read_outside_a_transaction_is_one_round_trip_that_leaves_the_connection_clean(
    manager, sales_kpi_outside_transaction
):
    employees = sales_kpi_outside_transaction
    selectors.kpi_rows_for_user(user=manager, view_name="test_sales_kpi")
    cache.clear()
    manager = as_a_request_loads_it(manager)
    with CaptureQueriesContext(connection) as captured:
        rows = selectors.kpi_rows_for_user(user=manager, view_name="test_sales_kpi")
    assert {r["sales_rep_id"] for r in rows} == {employees["5"].pk, employees["6"].pk}
    assert len(captured.captured_queries) == 3
    assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user = session_user, current_setting('ledgerlight.kpi_scope', true), "
            "setting = reset_val FROM pg_settings WHERE name = 'work_mem'"
        )
        assert cursor.fetchone() == (True, "", True)


@pytest.mark.django_db(transaction=True)
def test_a_failed_read_outside_a_transaction_is_rolled_back_and_the_connection_stays_usable(
    manager, sales_kpi_outside_transaction
):
    missing = sql.SQL("SELECT * FROM {}").format(sql.Identifier("no_such_kpi_table"))
    with pytest.raises(DatabaseError):
        read._scoped_read(user_row_scope(manager), [(missing, [])])
    assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE
    rows = selectors.kpi_rows_for_user(user=manager, view_name="test_sales_kpi")
    assert len(rows) == 2


def _rows_cache_clear() -> None:
    """Drop the cached rows only: the cached scope and freshness stay."""
    keys = cache._cache.get_client().keys("*kpi:rows:*")
    if keys:
        cache._cache.get_client().delete(*keys)


def test_a_second_read_takes_the_scope_and_freshness_from_the_cache(manager, sales_kpi):
    selectors.kpi_rows_for_user(user=manager, view_name="test_sales_kpi")
    _rows_cache_clear()
    manager = as_a_request_loads_it(manager)
    with CaptureQueriesContext(connection) as captured:
        rows = selectors.kpi_rows_for_user(user=manager, view_name="test_sales_kpi")
    statements = read_statements(captured)
    assert len(statements) == 1 and READ_SQL in statements[0]  # the read alone
    assert {r["sales_rep_id"] for r in rows} == {sales_kpi["5"].pk, sales_kpi["6"].pk}


def test_a_cached_scope_is_dropped_when_the_role_or_the_hierarchy_changes(manager, rep, sales_kpi):
    from accounts.models import Role
    from accounts.services import user_upsert

    def reps(user) -> set[int]:
        _rows_cache_clear()
        return {r["sales_rep_id"] for r in selectors.kpi_rows_for_user(user=user, view_name="test_sales_kpi")}

    assert reps(manager) == {sales_kpi["5"].pk, sales_kpi["6"].pk}
    assert reps(rep) == {sales_kpi["1"].pk}  # each user their own cached scope
    davolio = sales_kpi["1"]
    davolio.manager = sales_kpi["5"]  # moves under Buchanan
    davolio.save(update_fields=["manager"])
    assert reps(manager) == {sales_kpi["5"].pk, sales_kpi["6"].pk, davolio.pk}
    user_upsert(username=manager.username, password=None, roles=[Role.SALES_REP], employee_id=sales_kpi["5"].pk)
    manager.refresh_from_db()
    assert reps(manager) == {sales_kpi["5"].pk}  # a rep now: their own rows only


def test_a_refresh_drops_the_cached_freshness(manager, sales_kpi, django_capture_on_commit_callbacks):
    from dashboards.models import KpiViewState

    first = selectors.kpi_read_context(user=manager, view_names=["test_sales_kpi"]).freshness["test_sales_kpi"]
    with django_capture_on_commit_callbacks(execute=True):
        KpiViewState.objects.update_or_create(
            view_name="test_sales_kpi", defaults={"last_success_at": "2030-01-01T00:00Z"}
        )
    later = selectors.kpi_read_context(user=manager, view_names=["test_sales_kpi"]).freshness["test_sales_kpi"]
    assert first["refreshed_at"] is None and later["refreshed_at"].year == 2030


def only_the_users_statement(captured) -> bool:
    """The one statement of accounts/sql/user_for_request.sql: the user, the access generation and the roles."""
    statements = [q["sql"] for q in captured.captured_queries]
    return len(statements) == 1 and "FROM accounts_user u" in statements[0] and "auth_group" in statements[0]


def test_a_widget_partial_opened_again_costs_the_user_only(client, sales_dashboard, manager):
    # The dashboard, its widgets and the caller's right to them are cached (`dashboard_viewing_for_user`), the scope
    # and freshness too, and the rows; the session is read through the cache (accounts.sessions): what is left is
    # the user's row, carrying the access generation and the roles in subqueries of the same statement.
    widget = sales_dashboard.widgets.get(title="Monthly revenue")
    client.force_login(manager)
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget.pk}/"
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert only_the_users_statement(captured), [q["sql"] for q in captured.captured_queries]


def test_the_page_asks_no_query_for_the_users_roles(client, sales_dashboard, manager):
    client.force_login(manager)
    url = f"/dashboards/{sales_dashboard.slug}/"
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    # The user's statement carries the roles (the site menu): nothing about the dashboard itself, nor the session, nor
    # the pickers' employees (kept).
    assert only_the_users_statement(captured), [q["sql"] for q in captured.captured_queries]


@pytest.fixture
def colleague(sales_dashboard, manager):
    """A second manager of the same team, with the dashboard shared to them: the same scope as `manager`."""
    from accounts.models import Role
    from dashboards.services.dashboards import dashboard_share
    from tests.factories import persona

    user = persona("manager-too", Role.MANAGER, manager.employee)
    dashboard_share(dashboard=sales_dashboard, level="view", username=user.username)
    return user


def test_a_widget_partial_is_rendered_once_for_everyone_with_the_same_etag(
    client, sales_dashboard, manager, colleague, executive, django_capture_on_commit_callbacks
):
    # The partial's HTML is kept under its ETag (data, spec, scope, filters, language) and the right to edit: a second
    # manager of the same team gets it without the rows being read again; new data (a refresh) gives a new ETag.
    from dashboards.models import KpiViewState

    widget = sales_dashboard.widgets.get(title="By rep")
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget.pk}/"

    def partial(user) -> tuple[str, str]:
        client.force_login(user)
        response = client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return response["ETag"], response.content.decode()

    etag, first = partial(manager)
    assert "110.00" in first and "2,110.00" not in first  # buchanan's two months, in the manager's scope
    with connection.cursor() as cursor:  # the stored rows change behind the cache, no refresh recorded
        cursor.execute("UPDATE test_sales_kpi SET revenue = revenue + 1000")
    _rows_cache_clear()

    assert partial(colleague) == (etag, first)  # the same HTML: the rows were not read again
    client.force_login(colleague)
    page = client.get(url).content.decode()  # the widget's own page is rendered each time (its CSP nonce)
    assert "2,110.00" in page
    owner_etag, owner_view = partial(executive)  # another scope: another ETag, its own rows
    assert owner_etag != etag and "Edit" in owner_view
    with django_capture_on_commit_callbacks(execute=True):
        KpiViewState.objects.update_or_create(
            view_name="test_sales_kpi", defaults={"last_success_at": "2030-01-01T00:00Z"}
        )
    new_etag, refreshed = partial(colleague)
    assert new_etag != etag and "2,110.00" in refreshed


def test_a_widget_partial_is_drawn_with_the_cache_down(client, sales_dashboard, manager, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set", down)
    widget = sales_dashboard.widgets.get(title="By rep")
    client.force_login(manager)

    response = client.get(f"/dashboards/{sales_dashboard.slug}/widgets/{widget.pk}/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and "110.00" in response.content.decode()


def test_a_table_widget_on_the_page_reads_one_row_more_than_it_draws_and_its_export_every_row(
    client, sales_dashboard, executive, monkeypatch
):
    from dashboards import presenters
    from dashboards.filters import DashboardFilters

    widget = sales_dashboard.widgets.get(title="By rep")  # four reps in the executive's scope
    (every,) = selectors.widgets_data_for_user(user=executive, widgets=[widget], filters=DashboardFilters())
    (shown,) = selectors.widgets_data_for_user(
        user=executive, widgets=[widget], filters=DashboardFilters(), shown_rows=2
    )
    assert len(every.rows) == 4 and shown.rows == every.rows[:3]

    monkeypatch.setattr(presenters, "TABLE_MAX_ROWS", 2)
    client.force_login(executive)
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget.pk}/"
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    export = client.get(f"/dashboards/{sales_dashboard.slug}/widgets/{widget.pk}/export.csv").content.decode()

    assert partial.count("<tr><td>") == 2 and "First 2 rows; export CSV for all." in partial
    assert len(export.strip().splitlines()) == 1 + 4


def test_the_page_carries_the_partials_kept_for_its_reader(
    client, sales_dashboard, manager, colleague, executive, django_capture_on_commit_callbacks
):
    # A widget whose partial was drawn a moment ago for the same scope, filters and language comes inside the page
    # (no request of its own); a reader of another scope, or after new data, gets the placeholder that loads it.
    from dashboards.models import KpiViewState

    widget = sales_dashboard.widgets.get(title="By rep")
    page_url = f"/dashboards/{sales_dashboard.slug}/"
    article = f'id="widget-{widget.pk}"'

    def page(user) -> str:
        client.force_login(user)
        response = client.get(page_url)
        assert response.status_code == 200
        html = response.content.decode()
        return html[html.index(article) : html.index("</article>", html.index(article))]

    assert "hx-get" in page(colleague) and "widget-content" not in page(colleague)  # nothing kept yet
    client.force_login(manager)
    partial = client.get(f"{page_url}widgets/{widget.pk}/", HTTP_HX_REQUEST="true")
    etag = partial["ETag"]

    inline = page(colleague)
    assert 'data-inline="1"' in inline and "hx-get" not in inline
    assert f'data-etag="{escape(etag)}"' in inline and "110.00" in inline  # the partial as drawn for the manager
    other = page(executive)  # another scope: its own partial, not the managers'
    assert "hx-get" in other and escape(etag) not in other
    with django_capture_on_commit_callbacks(execute=True):
        KpiViewState.objects.update_or_create(
            view_name="test_sales_kpi", defaults={"last_success_at": "2030-01-01T00:00Z"}
        )
    assert "hx-get" in page(colleague)  # new data: the kept partial is another ETag's


@pytest.fixture
def redis_round_trips(monkeypatch):
    """The Redis commands sent (a pipeline counts once), as a list the test empties and reads."""
    import redis

    sent: list[str] = []
    execute_command = redis.Redis.execute_command

    def counted(self, *args, **options):
        sent.append(str(args[0]))
        return execute_command(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    return sent


def test_a_page_opened_again_costs_three_redis_round_trips(client, sales_dashboard, manager, redis_round_trips):
    # The session; then what is read before the scope is known (the dashboard as the user views it, the scope, the
    # freshness, the data's currency) in one MGET; then what depends on the scope (pickers, kept partials) in another.
    client.force_login(manager)
    url = f"/dashboards/{sales_dashboard.slug}/"
    for widget in sales_dashboard.widgets.all():  # every partial kept: the page carries them
        assert client.get(f"{url}widgets/{widget.pk}/", HTTP_HX_REQUEST="true").status_code == 200
    assert client.get(url).status_code == 200
    redis_round_trips.clear()
    response = client.get(url)
    assert response.status_code == 200 and response.content.count(b'data-inline="1"') == len(
        sales_dashboard.widgets.all()
    )
    assert redis_round_trips == ["GET", "MGET", "MGET"]


def test_a_kept_widget_partial_and_an_idle_poll_cost_three_and_two_round_trips(
    client, sales_dashboard, manager, redis_round_trips
):
    widget = sales_dashboard.widgets.get(title="Monthly revenue")
    client.force_login(manager)
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget.pk}/"
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    redis_round_trips.clear()
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    assert redis_round_trips == ["GET", "MGET", "MGET"]  # session; dashboard, scope, freshness, currency; the partial
    changes = f"/dashboards/{sales_dashboard.slug}/changes/"
    etag = client.get(changes)["ETag"]
    redis_round_trips.clear()
    assert client.get(changes, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert redis_round_trips == ["GET", "MGET"]  # session; the poll's context, freshness and the data's currency
