"""The second wall: a KPI read that forgot its WHERE clause still sees only the caller's rows."""

from __future__ import annotations

from django.db import connection
from psycopg import sql

from accounts.selectors import user_row_scope
from dashboards import selectors
from dashboards.kpi import read
from dashboards.kpi.rls import KPI_READER_ROLE


def forgetful_read(user, table="test_sales_kpi"):
    """The scoped session of the one read function, running a query with no access predicate at all."""
    statement = sql.SQL("SELECT sales_rep_id, revenue FROM {}").format(sql.Identifier(table))
    return read._scoped_read(user_row_scope(user), [(statement, [])])[0]


def test_query_without_filter_returns_only_the_managers_rows(manager, sales_kpi):
    rows = forgetful_read(manager)
    assert {r["sales_rep_id"] for r in rows} == {sales_kpi["5"].pk, sales_kpi["6"].pk}


def test_query_without_filter_returns_only_the_reps_rows(rep, sales_kpi):
    assert {r["sales_rep_id"] for r in forgetful_read(rep)} == {sales_kpi["1"].pk}


def test_query_without_filter_returns_nothing_to_a_user_without_scope(outsider, sales_kpi):
    assert forgetful_read(outsider) == []


def test_query_without_filter_returns_everything_to_an_executive(executive, sales_kpi):
    assert len(forgetful_read(executive)) == 8


def test_reader_role_without_scope_settings_sees_nothing(sales_kpi):
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(KPI_READER_ROLE)))
        cursor.execute("SELECT count(*) FROM test_sales_kpi")
        assert cursor.fetchone()[0] == 0
        cursor.execute("RESET ROLE")


def test_reader_role_cannot_read_canonical_tables(sales_kpi):
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, 'canonical_orders', 'SELECT')", [KPI_READER_ROLE])
        assert cursor.fetchone()[0] is False


def test_reads_leave_the_connection_as_it_was(manager, sales_kpi):
    forgetful_read(manager)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user = session_user, current_setting('ledgerlight.kpi_scope', true), "
            "setting = reset_val FROM pg_settings WHERE name = 'work_mem'"
        )
        assert cursor.fetchone() == (True, "", True)


def test_a_read_may_hash_in_more_memory_than_the_servers_default(manager, sales_kpi):
    setting = sql.SQL("SELECT current_setting('work_mem') AS work_mem")
    (rows,) = read._scoped_read(user_row_scope(manager), [(setting, [])])
    assert rows == [{"work_mem": read.READ_WORK_MEM}]


def test_a_recreated_kpi_table_gets_its_policy_back_on_first_read(manager, sales_kpi):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE test_sales_kpi RENAME TO old_sales_kpi")
        cursor.execute("CREATE TABLE test_sales_kpi AS SELECT * FROM old_sales_kpi")
    rows = selectors.kpi_rows_for_user(user=manager, view_name="test_sales_kpi")
    assert {r["sales_rep_id"] for r in rows} == {sales_kpi["5"].pk, sales_kpi["6"].pk}
    assert {r["sales_rep_id"] for r in forgetful_read(manager)} == {sales_kpi["5"].pk, sales_kpi["6"].pk}
