"""Read-side aggregates: KPI tables summed over fewer dimensions (no sales rep: an executive's read; no month:
a read without a date range), kept by the refresh of the view they sum. The one row-filtering function reads
one only when it answers the query exactly, and what it answers equals the same query on the view itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from psycopg import sql

from accounts.selectors import user_row_scope
from dashboards import selectors
from dashboards.filters import DashboardFilters
from dashboards.kpi import query as query_module
from dashboards.kpi import read
from dashboards.kpi.query import kpi_aggregate_for, kpi_query_build
from dashboards.kpi.registry import KPI_VIEWS, aggregates_of, get_view, membership_of, stored_distinct
from dashboards.selectors import kpi_rows_for_user
from dashboards.services.demo import demo_widget_query
from dashboards.services.refresh import kpi_refresh_mark_touched, kpi_view_refresh, kpi_views_refresh_all, partitions
from dashboards.services.refresh.aggregates import _aggregate_select
from tests.dashboards.kpi_helpers import add_order, month_of, table_rows
from tests.factories import Role, persona

TOP_CUSTOMERS_QUERY = demo_widget_query("sales-overview", "Top customers")  # the demo widget's own query

pytestmark = pytest.mark.django_db

# The demo Sales overview's grouped reads (dashboards/services/demo.py), and a few more shapes.
QUERIES = [
    ("monthly_revenue", {"measures": ["revenue"]}),
    ("monthly_revenue", {"group_by": ["month"], "measures": ["revenue"], "order_by": ["month"]}),
    ("monthly_revenue", {"group_by": ["month"], "measures": ["revenue", "order_count"], "order_by": ["-revenue"]}),
    ("top_customers", TOP_CUSTOMERS_QUERY),
    ("top_customers", {"group_by": ["country"], "measures": ["revenue", "order_count"], "order_by": ["-revenue"]}),
    ("top_products", {**TOP_CUSTOMERS_QUERY, "group_by": ["product_id", "product_name"]}),
    ("top_products", {"group_by": ["category"], "measures": ["revenue", "quantity"], "order_by": ["-revenue"]}),
    ("revenue_by_category", {"group_by": ["category"], "measures": ["revenue"], "order_by": ["-revenue"]}),
    ("sales_rep_performance", {"group_by": ["rep_name"], "measures": ["revenue", "order_count"]}),
    (
        "order_fulfillment",
        {"group_by": ["month", "status"], "measures": ["order_count"], "order_by": ["month", "status"]},
    ),
    # The demo Finance dashboard's Gross margin and Gross margin by month (revenue beside: Northwind has no costs).
    ("gross_margin", {"measures": ["revenue", "gross_margin"]}),
    ("gross_margin", {"group_by": ["month"], "measures": ["revenue", "gross_margin"], "order_by": ["month"]}),
    ("customer_segments", {"group_by": ["segment"], "measures": ["revenue", "order_count"], "order_by": ["-revenue"]}),
    (
        "new_vs_returning_customers",
        {"group_by": ["month"], "measures": ["new_revenue", "returning_revenue"], "order_by": ["month"]},
    ),
]
SORTED = lambda rows: sorted(rows, key=lambda r: tuple(str(v) for v in r.values()))  # noqa: E731


@pytest.fixture
def built(northwind):
    kpi_views_refresh_all(full=True)
    return {
        "executive": persona("fuller", Role.EXECUTIVE, northwind["2"]),
        "manager": persona("buchanan", Role.MANAGER, northwind["5"]),
        "employees": northwind,
    }


def on_the_view(user, view_name, options, filters=None) -> list[dict]:
    """The same read with aggregates switched off: grouped and summed from the view's own rows."""
    query = kpi_query_build(view_name=view_name, options=options, filters=filters)
    ids = selectors._effective_ids(user_row_scope(user), query)
    original = query_module.kpi_aggregate_for
    query_module.kpi_aggregate_for = lambda *args: None
    try:
        statement, params = query_module.kpi_statement(query, ids)
    finally:
        query_module.kpi_aggregate_for = original
    return read._scoped_read(user_row_scope(user), [(statement, params)])[0]


def read_by_aggregate(user, view_name, options, filters=None):
    query = kpi_query_build(view_name=view_name, options=options, filters=filters)
    return kpi_aggregate_for(query, selectors._effective_ids(user_row_scope(user), query))


@pytest.mark.parametrize(("view_name", "options"), QUERIES)
def test_an_executives_grouped_read_comes_from_an_aggregate_and_equals_the_view(built, view_name, options):
    executive = built["executive"]
    assert read_by_aggregate(executive, view_name, options) is not None
    rows = kpi_rows_for_user(user=executive, view_name=view_name, options=options)
    expected = on_the_view(executive, view_name, options)
    assert rows and len(rows) == len(expected)
    if options.get("order_by"):
        assert rows == expected
    else:
        assert SORTED(rows) == SORTED(expected)


def test_the_executives_revenue_total_is_the_northwind_total(built):
    rows = kpi_rows_for_user(user=built["executive"], view_name="monthly_revenue", options={"measures": ["revenue"]})
    assert rows == [{"revenue": 1265793.04}]


def test_a_managers_read_never_uses_an_aggregate_without_the_rep_column(built):
    manager = built["manager"]
    for view_name, options in QUERIES:
        aggregate = read_by_aggregate(manager, view_name, options)
        assert aggregate is None or aggregate.scope_column, (view_name, options)
    # Per rep without the month: a manager's reps summed over all time, the same figures as from the view.
    options = {"group_by": ["rep_name"], "measures": ["revenue", "order_count"], "order_by": ["-revenue"]}
    assert read_by_aggregate(manager, "sales_rep_performance", options).name == "sales_rep_performance_all_time"
    rows = kpi_rows_for_user(user=manager, view_name="sales_rep_performance", options=options)
    assert rows == on_the_view(manager, "sales_rep_performance", options)
    # Each rep's revenue is rounded to cents: their sum is the team's within a cent per rep.
    assert abs(sum(r["revenue"] for r in rows) - 344581.71) <= 0.01 * len(rows)


def test_a_rep_filter_on_an_executives_read_does_not_use_an_aggregate_without_reps(built):
    executive, rep_id = built["executive"], built["employees"]["1"].pk
    filters = DashboardFilters(rep=rep_id)
    options = {"measures": ["revenue"]}
    assert read_by_aggregate(executive, "monthly_revenue", options, filters) is None
    rows = kpi_rows_for_user(user=executive, view_name="monthly_revenue", options=options, filters=filters)
    assert rows == [{"revenue": 192107.60}]


def test_a_date_range_uses_only_aggregates_that_keep_the_month(built):
    executive = built["executive"]
    filters = DashboardFilters(date_from=date(1997, 1, 1), date_to=date(1997, 6, 30))
    rep_options = {"group_by": ["rep_name"], "measures": ["revenue"], "order_by": ["-revenue"]}
    assert read_by_aggregate(executive, "sales_rep_performance", rep_options, filters) is None
    month_options = {"group_by": ["month"], "measures": ["revenue"], "order_by": ["month"]}
    assert read_by_aggregate(executive, "monthly_revenue", month_options, filters).name == "monthly_revenue_all_reps"
    rows = kpi_rows_for_user(user=executive, view_name="monthly_revenue", options=month_options, filters=filters)
    assert [r["month"] for r in rows] == [f"1997-{m:02d}-01" for m in range(1, 7)]
    assert rows == on_the_view(executive, "monthly_revenue", month_options, filters)


def test_ungrouped_rows_always_come_from_the_view(built):
    query = kpi_query_build(view_name="monthly_revenue", options={"order_by": ["month"]})
    assert kpi_aggregate_for(query, None) is None


def test_an_aggregate_without_the_rep_column_is_behind_the_rls_wall_for_a_manager(built):
    statement = sql.SQL("SELECT * FROM top_customers_all_reps")
    assert read._scoped_read(user_row_scope(built["manager"]), [(statement, [])])[0] == []
    assert len(read._scoped_read(user_row_scope(built["executive"]), [(statement, [])])[0]) == 89


def recomputed(aggregate_name: str) -> list[tuple]:
    """The aggregate's SQL over its whole view (a membership table's over all the order facts; an all-time one's over
    the month-by-month one), as a full refresh would store it; stored distinct counts counted from the membership."""
    aggregate = get_view(aggregate_name)
    params = None
    if aggregate.summed_from:  # the all-time membership: the month-by-month one summed
        query = _aggregate_select(aggregate, sql.Identifier(aggregate.summed_from))
    elif aggregate.membership:
        query, params = partitions._select(aggregate), partitions._params(None)
    else:
        query = _aggregate_select(aggregate, sql.Identifier(aggregate.aggregate_of))
    columns = [sql.SQL("q.{}").format(sql.Identifier(c)) for c in aggregate.columns]
    if aggregate.distinct_from:  # stored distinct counts: the key's distinct entities of the month-by-month rows
        members = membership_of(get_view(aggregate.aggregate_of))
        same = [sql.SQL("m.{0} IS NOT DISTINCT FROM q.{0}").format(sql.Identifier(k)) for k in aggregate.key]
        for name, spec in stored_distinct(aggregate).items():
            entity, where = (spec, None) if isinstance(spec, str) else (spec["of"], spec["where"])
            counted = sql.SQL("count(DISTINCT m.{})").format(sql.Identifier(entity))
            if where:
                counted += sql.SQL(" FILTER (WHERE m.{})").format(sql.Identifier(where))
            columns[list(aggregate.columns).index(name)] = sql.SQL("(SELECT {} FROM {} m WHERE {})").format(
                counted, sql.Identifier(members.name), sql.SQL(" AND ").join(same) if same else sql.SQL("TRUE")
            )
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT {} FROM ({}) q").format(sql.SQL(", ").join(columns), query), params)
        return sorted(cursor.fetchall(), key=lambda r: tuple(str(v) for v in r))


def test_every_aggregate_follows_an_incremental_refresh_of_its_view(built):
    from canonical.models import Customer, Product

    employees = built["employees"]
    customer = Customer.objects.order_by("pk").first()
    product = Product.objects.create(external_id="AGG-P", name="Aggregate test", category="Seafood")
    day = date(1998, 5, 4)
    add_order(customer=customer, rep=employees["6"], day=day, lines=[(product, "3", "12.50", "0")], status="shipped")
    add_order(customer=None, rep=employees["7"], day=day, amount="40.00")  # no customer: a NULL entity
    touched = {"canonical_orders": {"months": [month_of(day)]}, "canonical_order_lines": {"months": [month_of(day)]}}
    kpi_refresh_mark_touched(touched=touched)
    parents = sorted({v.aggregate_of for v in KPI_VIEWS.values() if v.aggregate_of})
    for name in parents:  # a full-strategy view (its membership table: distinct counts) is always rebuilt
        assert kpi_view_refresh(view_name=name).mode == ("full" if get_view(name).strategy == "full" else "incremental")
    for name in parents:
        for aggregate in aggregates_of(get_view(name)):
            stored = sorted(table_rows(aggregate.name), key=lambda r: tuple(str(v) for v in r))
            assert stored == recomputed(aggregate.name), aggregate.name
    with connection.cursor() as cursor:
        cursor.execute("SELECT revenue FROM top_customers_all_reps WHERE customer_id IS NULL")
        assert cursor.fetchone()[0] == Decimal("40.00")


def test_a_recreated_aggregate_gets_its_policy_back_on_the_first_read_that_needs_it(built):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE top_customers_all_reps RENAME TO old_top_customers_all_reps")
        cursor.execute("CREATE TABLE top_customers_all_reps AS SELECT * FROM old_top_customers_all_reps")
    rows = kpi_rows_for_user(user=built["executive"], view_name="top_customers", options=TOP_CUSTOMERS_QUERY)
    assert rows[0]["customer_name"] == "QUICK-Stop"
    statement = sql.SQL("SELECT * FROM top_customers_all_reps")
    assert read._scoped_read(user_row_scope(built["manager"]), [(statement, [])])[0] == []
