"""Distinct counts over any date range: Rep performance's customer count is the number of distinct customers of
the orders it covers, never a sum of months' (or reps') distinct counts. Counted from the membership table
sales_rep_customers, which the refresh of sales_rep_performance keeps month by month."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from dashboards.filters import DashboardFilters
from dashboards.kpi.query import kpi_query_build, kpi_statement
from dashboards.selectors import kpi_rows_for_user
from dashboards.services.demo import demo_widget_query
from dashboards.services.refresh import kpi_views_refresh_all
from tests.factories import Role, persona

pytestmark = pytest.mark.django_db

REP_PERFORMANCE = demo_widget_query("sales-overview", "Rep performance")
RANGES = [
    (None, None),
    (date(1996, 7, 1), date(1996, 12, 31)),
    (date(1997, 1, 1), date(1997, 12, 31)),
    (date(1997, 3, 15), date(1998, 2, 10)),
    (date(1998, 5, 1), None),
    (None, date(1996, 8, 31)),
]


@pytest.fixture
def built(northwind):
    kpi_views_refresh_all(full=True)
    return {
        "executive": persona("fuller", Role.EXECUTIVE, northwind["2"]),
        "manager": persona("buchanan", Role.MANAGER, northwind["5"]),
        "rep": persona("davolio", Role.SALES_REP, northwind["1"]),
        "employees": northwind,
    }


def orders_truth(date_from, date_to, rep_ids=None) -> dict[int | None, tuple[int, int]]:
    """Per sales rep: (distinct customers, orders) of the canonical orders in the range, counted directly.

    The range selects months (the KPI views' date column), as a dashboard's date filter does."""
    where, params = ["TRUE"], []
    if date_from:
        where.append("date_trunc('month', order_date)::date >= %s")
        params.append(date_from)
    if date_to:
        where.append("date_trunc('month', order_date)::date <= %s")
        params.append(date_to)
    if rep_ids is not None:
        where.append("sales_rep_id = ANY(%s)")
        params.append(sorted(rep_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sales_rep_id, count(DISTINCT customer_id), count(*) FROM canonical_orders "
            f"WHERE {' AND '.join(where)} GROUP BY sales_rep_id",
            params,
        )
        return {rep: (customers, orders) for rep, customers, orders in cursor.fetchall()}


def names_by_id(employees) -> dict[int, str]:
    return {e.pk: e.name for e in employees.values()}


@pytest.mark.parametrize(("date_from", "date_to"), RANGES)
def test_rep_performance_customer_counts_are_distinct_customers_of_the_range(built, date_from, date_to):
    filters = DashboardFilters(date_from=date_from, date_to=date_to)
    rows = kpi_rows_for_user(
        user=built["executive"], view_name="sales_rep_performance", options=REP_PERFORMANCE, filters=filters
    )
    truth = orders_truth(date_from, date_to)
    names = names_by_id(built["employees"])
    expected = {names[rep]: counts for rep, counts in truth.items()}
    assert {r["rep_name"]: (r["customer_count"], r["order_count"]) for r in rows} == expected


def test_davolios_all_time_customer_count_is_her_orders_distinct_customers(built):
    rows = kpi_rows_for_user(user=built["rep"], view_name="sales_rep_performance", options=REP_PERFORMANCE)
    assert len(rows) == 1
    assert rows[0]["customer_count"] == orders_truth(None, None)[built["employees"]["1"].pk][0] == 65
    # The months' distinct counts summed, which the widget used to show, are far more.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(customer_count) FROM sales_rep_performance WHERE sales_rep_id = %s",
            [built["employees"]["1"].pk],
        )
        assert cursor.fetchone()[0] > 65
    assert rows[0]["revenue"] == 192107.60


def test_a_managers_team_total_counts_a_customer_of_two_reps_once(built):
    manager, employees = built["manager"], built["employees"]
    options = {"measures": ["customer_count", "revenue"]}
    for date_from, date_to in RANGES:
        filters = DashboardFilters(date_from=date_from, date_to=date_to)
        rows = kpi_rows_for_user(user=manager, view_name="sales_rep_performance", options=options, filters=filters)
        team = {employees[k].pk for k in ("5", "6", "7", "9")}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(DISTINCT customer_id) FROM canonical_orders WHERE sales_rep_id = ANY(%s) "
                "AND (%s::date IS NULL OR date_trunc('month', order_date)::date >= %s) "
                "AND (%s::date IS NULL OR date_trunc('month', order_date)::date <= %s)",
                [sorted(team), date_from, date_from, date_to, date_to],
            )
            assert rows[0]["customer_count"] == cursor.fetchone()[0]
    all_time = kpi_rows_for_user(user=manager, view_name="sales_rep_performance", options=options)
    assert all_time[0]["revenue"] == 344581.71


def test_per_month_customer_counts_equal_the_view_rows(built):
    options = {"group_by": ["month"], "measures": ["customer_count"], "order_by": ["month"]}
    rows = kpi_rows_for_user(user=built["executive"], view_name="sales_rep_performance", options=options)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('month', order_date)::date::text, count(DISTINCT customer_id) FROM canonical_orders "
            "GROUP BY 1 ORDER BY 1"
        )
        assert [(r["month"], r["customer_count"]) for r in rows] == cursor.fetchall()


def test_a_distinct_count_cannot_be_read_with_a_measure_the_membership_table_lacks():
    with pytest.raises(ValidationError, match="customer_count"):
        kpi_query_build(view_name="sales_rep_performance", options={"measures": ["customer_count", "avg_order_value"]})


def test_a_segments_customer_count_over_reps_counts_each_customer_once(built):
    options = {"group_by": ["segment"], "measures": ["customer_count", "order_count"]}
    rows = kpi_rows_for_user(user=built["executive"], view_name="customer_segments", options=options)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(NULLIF(c.segment, ''), 'Unassigned'), count(DISTINCT c.id), count(o.id) "
            "FROM canonical_customers c LEFT JOIN canonical_orders o ON o.customer_id = c.id GROUP BY 1"
        )
        expected = {segment: (customers, orders) for segment, customers, orders in cursor.fetchall()}
    assert {r["segment"]: (r["customer_count"], r["order_count"]) for r in rows} == expected


@pytest.mark.parametrize(("date_from", "date_to"), RANGES)
def test_new_and_returning_customers_of_a_range_are_distinct_customers(built, date_from, date_to):
    options = {"measures": ["new_customers", "returning_customers"]}
    filters = DashboardFilters(date_from=date_from, date_to=date_to)
    (row,) = kpi_rows_for_user(
        user=built["executive"], view_name="new_vs_returning_customers", options=options, filters=filters
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH o AS (SELECT customer_id, date_trunc('month', order_date)::date AS month, "
            "date_trunc('month', min(order_date) OVER (PARTITION BY customer_id))::date AS first FROM canonical_orders "
            "WHERE customer_id IS NOT NULL) "
            "SELECT count(DISTINCT customer_id) FILTER (WHERE month = first), "
            "count(DISTINCT customer_id) FILTER (WHERE month > first) FROM o "
            "WHERE (%(lo)s::date IS NULL OR month >= %(lo)s) AND (%(hi)s::date IS NULL OR month <= %(hi)s)",
            {"lo": date_from, "hi": date_to},
        )
        new, returning = cursor.fetchone()
    assert (row["new_customers"], row["returning_customers"]) == (new, returning)
    if date_from is None and date_to is None:
        assert new == 89  # every Northwind customer with an order is new once


def test_every_distinct_measure_is_counted_from_a_membership_table_holding_its_columns():
    from dashboards.kpi.registry import KPI_VIEWS, membership_of

    declared = [view for view in KPI_VIEWS.values() if view.distinct]
    assert {v.name for v in declared} >= {"sales_rep_performance", "customer_segments", "new_vs_returning_customers"}
    for view in declared:
        members = membership_of(view)
        assert members is not None and members.scope_column == view.scope_column, view.name
        assert members.date_column == view.date_column, view.name
        for measure, spec in view.distinct.items():
            assert view.columns[measure] == "integer"
            columns = [spec] if isinstance(spec, str) else [spec["of"], spec["where"]]
            assert set(columns) <= set(members.columns), (view.name, measure)


def rep_performance_statement(user, filters: DashboardFilters | None = None) -> str:
    from accounts.selectors import user_row_scope
    from dashboards.selectors import _effective_ids

    query = kpi_query_build(view_name="sales_rep_performance", options=REP_PERFORMANCE, filters=filters)
    statement, _ = kpi_statement(query, _effective_ids(user_row_scope(user), query))
    return statement.as_string(connection.connection)


def test_without_a_date_range_rep_performance_reads_stored_counts_not_the_months(built):
    # The dashboard's default read: a row per rep name (an executive) or per rep (a few hundred at 1M orders), not a
    # row per month, rep and customer.
    assert 'FROM "sales_rep_performance_by_name"' in rep_performance_statement(built["executive"])
    for persona_name in ("manager", "rep"):
        statement = rep_performance_statement(built[persona_name])
        assert 'FROM "sales_rep_performance_all_time"' in statement
        assert 'FROM "sales_rep_customers" ' not in statement
    ranged = rep_performance_statement(built["executive"], DashboardFilters(date_from=date(1997, 1, 1)))
    assert 'FROM "sales_rep_customers" ' in ranged


def test_reps_sharing_a_name_count_a_customer_they_share_once(built):
    from canonical.models import Employee, Order
    from tests.dashboards.kpi_helpers import add_order

    employees = built["employees"]
    davolio = employees["1"]
    twin = Employee.objects.create(external_id="TWIN", name=davolio.name, manager=employees["2"])
    shared = Order.objects.filter(sales_rep=davolio).order_by("pk").first().customer  # one of Davolio's 65
    add_order(customer=shared, rep=twin, day=date(1997, 4, 2), amount="10.00")
    kpi_views_refresh_all(full=True)
    rows = kpi_rows_for_user(user=built["executive"], view_name="sales_rep_performance", options=REP_PERFORMANCE)
    counts = {r["rep_name"]: r["customer_count"] for r in rows}
    # Each rep's stored count is right (65 and 1); their sum (66) is not the name's distinct customers.
    assert counts[davolio.name] == 65
    names = names_by_id(employees)
    assert counts == {
        names.get(rep, davolio.name): c for rep, (c, _) in orders_truth(None, None).items() if rep != twin.pk
    }
    # Narrowed to Fuller's team, the read is scoped: two per-rep rows of one name, counted from their all-time rows.
    team = DashboardFilters(team=employees["2"].pk)
    rows = kpi_rows_for_user(
        user=built["executive"], view_name="sales_rep_performance", options=REP_PERFORMANCE, filters=team
    )
    assert {r["rep_name"]: r["customer_count"] for r in rows}[davolio.name] == 65
    assert 'FROM "sales_rep_performance_all_time"' in rep_performance_statement(built["executive"], team)


def test_orders_without_a_rep_and_a_rep_without_a_name_are_one_unassigned_group_counted_once(built):
    from canonical.models import Customer, Employee
    from tests.dashboards.kpi_helpers import add_order

    nameless = Employee.objects.create(external_id="NONAME", name="", manager=built["employees"]["5"])
    first, second = Customer.objects.order_by("pk")[:2]
    add_order(customer=first, rep=nameless, day=date(1997, 4, 2), amount="10.00")
    add_order(customer=first, rep=None, day=date(1997, 5, 2), amount="10.00")
    add_order(customer=second, rep=None, day=date(1997, 6, 2), amount="10.00")
    kpi_views_refresh_all(full=True)
    rows = kpi_rows_for_user(user=built["executive"], view_name="sales_rep_performance", options=REP_PERFORMANCE)
    unassigned = next(r for r in rows if r["rep_name"] == "Unassigned")
    assert (unassigned["customer_count"], unassigned["order_count"]) == (2, 3)
    totals = kpi_rows_for_user(
        user=built["executive"], view_name="sales_rep_performance", options={"measures": ["customer_count"]}
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT customer_id) FROM canonical_orders")
        assert totals[0]["customer_count"] == cursor.fetchone()[0]


def test_new_and_returning_customers_per_rep_and_for_a_team_without_a_range_are_distinct_customers(built):
    def truth(rep_ids=None) -> dict[int, tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH o AS (SELECT customer_id, sales_rep_id, date_trunc('month', order_date) AS month, "
                "date_trunc('month', min(order_date) OVER (PARTITION BY customer_id)) AS first FROM canonical_orders "
                "WHERE customer_id IS NOT NULL) "
                "SELECT sales_rep_id, count(DISTINCT customer_id) FILTER (WHERE month = first), "
                "count(DISTINCT customer_id) FILTER (WHERE month > first) FROM o "
                "WHERE %(reps)s::bigint[] IS NULL OR sales_rep_id = ANY(%(reps)s) GROUP BY ROLLUP (sales_rep_id)",
                {"reps": None if rep_ids is None else sorted(rep_ids)},
            )
            return {rep: (new, returning) for rep, new, returning in cursor.fetchall()}

    per_rep = {"group_by": ["sales_rep_id"], "measures": ["new_customers", "returning_customers"]}
    rows = kpi_rows_for_user(user=built["executive"], view_name="new_vs_returning_customers", options=per_rep)
    expected = truth()
    assert {r["sales_rep_id"]: (r["new_customers"], r["returning_customers"]) for r in rows} == {
        rep: counts for rep, counts in expected.items() if rep is not None
    }
    total = {"measures": ["new_customers", "returning_customers"]}
    team = {built["employees"][k].pk for k in ("5", "6", "7", "9")}
    (row,) = kpi_rows_for_user(user=built["manager"], view_name="new_vs_returning_customers", options=total)
    assert (row["new_customers"], row["returning_customers"]) == truth(team)[None]


def test_an_executives_new_and_returning_customers_per_month_are_stored_counts_equal_to_distinct_customers(built):
    # Without a date range the executive's monthly read takes each month's stored counts (new_vs_returning_by_month),
    # not a distinct count over every membership row; with one it counts from the membership table.
    options = {"group_by": ["month"], "measures": ["new_customers", "returning_customers"], "order_by": ["month"]}
    query = kpi_query_build(view_name="new_vs_returning_customers", options=options)
    assert 'FROM "new_vs_returning_by_month"' in kpi_statement(query, None)[0].as_string(connection.connection)
    ranged = kpi_query_build(
        view_name="new_vs_returning_customers", options=options, filters=DashboardFilters(date_from=date(1997, 1, 1))
    )
    assert 'FROM "new_vs_returning_members"' in kpi_statement(ranged, None)[0].as_string(connection.connection)

    rows = kpi_rows_for_user(user=built["executive"], view_name="new_vs_returning_customers", options=options)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH o AS (SELECT customer_id, date_trunc('month', order_date)::date AS month, "
            "date_trunc('month', min(order_date) OVER (PARTITION BY customer_id))::date AS first FROM canonical_orders "
            "WHERE customer_id IS NOT NULL) "
            "SELECT month::text, count(DISTINCT customer_id) FILTER (WHERE month = first), "
            "count(DISTINCT customer_id) FILTER (WHERE month > first) FROM o GROUP BY month ORDER BY month"
        )
        expected = cursor.fetchall()
    assert [(r["month"], r["new_customers"], r["returning_customers"]) for r in rows] == [tuple(e) for e in expected]


def test_an_executives_segments_are_read_from_stored_counts(built):
    options = {"group_by": ["segment"], "measures": ["revenue", "customer_count"], "order_by": ["-revenue"]}
    query = kpi_query_build(view_name="customer_segments", options=options)
    statement = kpi_statement(query, None)[0].as_string(connection.connection)
    assert 'FROM "customer_segments_by_segment"' in statement
    # A manager's read is not every row: their reps' membership rows, counted.
    manager_query = kpi_query_build(view_name="customer_segments", options=options)
    team = frozenset(built["employees"][k].pk for k in ("5", "6", "7", "9"))
    assert 'FROM "customer_segments_by_segment"' not in kpi_statement(manager_query, team)[0].as_string(
        connection.connection
    )
