"""A KPI read names the caller's scope by a key (dashboards.kpi.rls): the scope's employee ids are stored once and
the row-level policies and the statements take them from there. Every role reads what it read when each read sent its
ids; a session that sets another key, or the settings the policies once read, sees nothing more; a change in the
hierarchy changes what a VP reads at once."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from psycopg import sql

from accounts.selectors import RowScope, user_row_scope
from canonical.models import Employee
from dashboards import selectors
from dashboards.kpi import read, rls
from dashboards.kpi.query import kpi_query_build, members_digest
from dashboards.kpi.rls import KPI_READER_ROLE, SETTING_SCOPE, ScopeIds, scope_read_key
from dashboards.services.demo import demo_widgets
from tests.dashboards.test_team_aggregates import as_manager, company  # noqa: F401 -- the fixture
from tests.factories import Role, persona

pytestmark = pytest.mark.django_db

# Every widget of the demo's sales overview, and distinct counts (their team rows and membership tables).
READS = [(w["view_name"], w["query_options"]) for w in demo_widgets("sales-overview")] + [
    (
        "customer_segments",
        {"group_by": ["segment"], "measures": ["revenue", "customer_count"], "order_by": ["segment"]},
    ),
    ("new_vs_returning_customers", {"group_by": ["month"], "measures": ["new_customers"], "order_by": ["month"]}),
    ("top_products", {"group_by": ["product_id"], "measures": ["revenue"], "order_by": ["product_id"]}),
]


def roles(company):  # noqa: F811 -- the fixture's value
    return {
        "VP": as_manager("vp", company["vps"][0]),
        "manager": as_manager("manager", company["managers"][1]),
        "rep": persona("rep", Role.SALES_REP, company["reps"][4]),
    }


def read_sending_ids(user, view_name, options) -> list[dict]:
    """The read as it was before scope keys: the statement filters on the caller's ids, sent with it."""
    query = kpi_query_build(view_name=view_name, options=options)
    scope = user_row_scope(user)
    ids = selectors._effective_ids(scope, query)
    plain = frozenset(ids) if isinstance(ids, ScopeIds) else ids
    return read._scoped_read(scope, [selectors._statement(query, plain)])[0]


def test_every_roles_reads_equal_the_reads_that_sent_their_ids(company):  # noqa: F811
    for role, user in roles(company).items():
        for view_name, options in READS:
            cache.clear()
            rows = selectors.kpi_rows_for_user(user=user, view_name=view_name, options=options)
            assert rows == read_sending_ids(user, view_name, options), (role, view_name, options)
            assert rows or role == "rep", (role, view_name)  # a VP's and a manager's reads are not vacuous


def test_a_vps_read_sends_its_scope_key_not_its_employee_ids(company):  # noqa: F811
    vp = roles(company)["VP"]
    ids = sorted(user_row_scope(vp).employee_ids)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        selectors.kpi_rows_for_user(user=vp, view_name="top_customers", options={"measures": ["revenue"]})
    (script,) = [q["sql"] for q in captured.captured_queries if SETTING_SCOPE in q["sql"]]
    assert scope_read_key(user_row_scope(vp)) in script
    assert not [i for i in ids if f"{i}," in script or f",{i}" in script]


def reader_sees(table: str, settings: dict[str, str]) -> int:
    """Rows of `table` a session running as the reader role sees with these settings (undone after)."""
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT reader_sees")
        try:
            for name, value in settings.items():
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
            cursor.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(KPI_READER_ROLE)))
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            return cursor.fetchone()[0]
        finally:
            cursor.execute("ROLLBACK TO SAVEPOINT reader_sees")


def test_a_session_that_sets_another_key_or_the_old_settings_sees_nothing_more(company, settings):  # noqa: F811
    people = roles(company)
    rep_scope, vp_scope = user_row_scope(people["rep"]), user_row_scope(people["VP"])
    executive = RowScope(all_rows=True)
    for scope in (rep_scope, vp_scope, executive):
        rls.kpi_scope_store(scope)
    rep_key = scope_read_key(rep_scope)
    table = "sales_rep_performance_all_time"
    rep_rows = reader_sees(table, {SETTING_SCOPE: rep_key})
    assert 0 < rep_rows < reader_sees(table, {SETTING_SCOPE: scope_read_key(vp_scope)})
    # The settings the policies read before scope keys, set beside the rep's key: they widen nothing.
    everyone = ",".join(str(pk) for pk in Employee.objects.values_list("pk", flat=True))
    old = {"ledgerlight.kpi_all_rows": "on", "ledgerlight.kpi_employee_ids": everyone}
    assert reader_sees(table, {SETTING_SCOPE: rep_key, **old}) == rep_rows
    assert reader_sees(table, old) == 0
    # Keys anyone could compute from the ids (the team snapshots' md5, the cache's sha256) or under another secret.
    vp_ids = sorted(vp_scope.employee_ids)
    settings.SECRET_KEY = "not the server's secret " * 2
    forged = [members_digest(vp_ids), vp_scope.ids_digest(), "all", "", scope_read_key(RowScope(all_rows=True))]
    for key in forged:
        assert reader_sees(table, {SETTING_SCOPE: key}) == 0, key
        assert reader_sees("kpi_read_scopes", {SETTING_SCOPE: key}) == 0, key
    # The reader sees the stored row of its own key only: no other key to copy.
    assert reader_sees("kpi_read_scopes", {SETTING_SCOPE: rep_key}) == 1


def test_a_read_with_a_key_nobody_stored_is_stopped_not_answered_empty(company):  # noqa: F811
    statement = sql.SQL("SELECT count(*) AS n FROM sales_rep_performance_all_time")
    scope = user_row_scope(roles(company)["VP"])
    forged = scope_read_key(RowScope(employee_ids=frozenset({-1})))
    with pytest.raises(DatabaseError) as stopped, connection.cursor() as cursor:
        cursor.execute("SAVEPOINT forged")
        try:
            cursor.execute("SELECT set_config(%s, %s, true)", [SETTING_SCOPE, forged])
            cursor.execute("SELECT kpi_scope_check()")
        finally:
            cursor.execute("ROLLBACK TO SAVEPOINT forged")
    assert stopped.value.__cause__.sqlstate == rls.SCOPE_UNKNOWN
    # A scope read for the first time, or whose stored row is gone, is stored and read: never an empty answer.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM kpi_read_scopes")
    rls._stored_keys.clear()
    assert read._scoped_read(scope, [(statement, [])])[0][0]["n"] > 0


def test_a_change_in_the_hierarchy_changes_what_a_vp_reads_at_once(company):  # noqa: F811
    vp = roles(company)["VP"]
    options = {"group_by": ["sales_rep_id"], "measures": ["revenue"], "order_by": ["sales_rep_id"]}
    before = selectors.kpi_rows_for_user(user=vp, view_name="sales_rep_performance", options=options)
    moved = company["managers"][2]  # under the other VP
    reps_of_moved = {e.pk for e in company["reps"] if e.manager_id == moved.pk} | {moved.pk}
    assert not reps_of_moved & {r["sales_rep_id"] for r in before}
    Employee.objects.filter(pk=moved.pk).update(manager=company["vps"][0])  # no refresh, no cache cleared
    after = selectors.kpi_rows_for_user(user=vp, view_name="sales_rep_performance", options=options)
    assert reps_of_moved <= {r["sales_rep_id"] for r in after}
    assert after == read_sending_ids(vp, "sales_rep_performance", options)
    total = selectors.kpi_rows_for_user(user=vp, view_name="monthly_revenue", options={"measures": ["revenue"]})
    assert total == read_sending_ids(vp, "monthly_revenue", {"measures": ["revenue"]})


def test_old_scopes_are_pruned_and_one_still_in_use_is_read_again(company):  # noqa: F811
    statement = sql.SQL("SELECT count(*) AS n FROM sales_rep_performance_all_time")
    vp = user_row_scope(roles(company)["VP"])
    manager = user_row_scope(roles(company)["manager"])
    fresh = rls.kpi_scope_store(manager)
    old = rls.kpi_scope_store(vp)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE kpi_read_scopes SET stored_at = now() - interval '8 days' WHERE scope_key = %s", [old])
    before = read._scoped_read(vp, [(statement, [])])[0][0]["n"]

    assert rls.kpi_read_scopes_prune() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT scope_key FROM kpi_read_scopes")
        kept = {k for (k,) in cursor.fetchall()}  # with scopes other tests committed (not 8 days old)
    assert fresh in kept and old not in kept
    # This process still believes the VP's scope stored: its next read is stopped, stores it again and answers the same.
    assert old in rls._stored_keys
    assert read._scoped_read(vp, [(statement, [])])[0][0]["n"] == before > 0


def test_the_prune_runs_daily_from_celery_beat():
    from io import StringIO

    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    from dashboards.tasks import kpi_read_scopes_prune_task

    call_command("setup_schedules", stdout=StringIO())
    task = PeriodicTask.objects.get(task=kpi_read_scopes_prune_task.name)
    assert (task.interval.every, task.interval.period) == (24, "hours")
    assert task.enabled
