"""Questions over the orders dataset that group by month (or quarter, year) and rep and sum, count or average its
amounts read `dataset_orders_monthly` (one row per month and rep) instead of every order; by week,
`dataset_orders_weekly` (one row per week, month and rep): the same rows, under the same row filter and RLS wall, kept
by the dataset's refresh."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from psycopg import sql

from accounts.selectors import user_row_scope
from canonical.models import Order
from dashboards.filters import DashboardFilters
from dashboards.kpi import question as question_module
from dashboards.kpi import read
from dashboards.kpi.question import question_aggregate_for, question_build, question_statement
from dashboards.selectors import _effective_ids
from dashboards.services.refresh import kpi_refresh_mark_touched, kpi_view_refresh, kpi_views_refresh_all
from tests.factories import Role, persona

pytestmark = pytest.mark.django_db

ORDERS = "dataset_orders"
MONTHLY, WEEKLY = "dataset_orders_monthly", "dataset_orders_weekly"
SERVED = [
    {"dimensions": [{"column": "order_date", "bucket": "month"}], "measures": [{"column": "revenue", "agg": "sum"}]},
    {"dimensions": [{"column": "order_date", "bucket": "quarter"}], "measures": [{"agg": "count"}]},
    {
        "dimensions": [{"column": "order_date", "bucket": "year"}, "sales_rep_id"],
        "measures": [{"column": "revenue", "agg": "avg"}, {"column": "line_count", "agg": "sum"}],
        "sort": ["-avg_revenue"],
    },
    # cogs is unknown (NULL) without product costs: a sum of nothing, a count of no values.
    {"dimensions": ["month"], "measures": [{"column": "cogs", "agg": "sum"}, {"column": "cogs", "agg": "count"}]},
    {"measures": [{"column": "revenue", "agg": "sum"}, {"agg": "count"}]},
    {
        "dimensions": [{"column": "order_date", "bucket": "month"}],
        "measures": [{"column": "amount", "agg": "sum"}],
        "filters": [{"column": "order_date", "op": "last", "value": "400 months"}],
    },
    {
        "dimensions": [{"column": "month", "bucket": "week"}],
        "measures": [{"column": "revenue", "agg": "sum"}],
        "filters": [{"column": "month", "op": "between", "value": ["1997-01-01", "1997-06-01"]}],
    },
]
# By week: dataset_orders_weekly (one row per week, month and rep).
BY_WEEK = [
    {"dimensions": [{"column": "order_date", "bucket": "week"}], "measures": [{"column": "revenue", "agg": "sum"}]},
    {
        "dimensions": [{"column": "order_date", "bucket": "week"}, "sales_rep_id"],
        "measures": [{"column": "amount", "agg": "avg"}, {"agg": "count"}, {"column": "cogs", "agg": "count"}],
        "sort": ["-count", "order_date", "sales_rep_id"],
    },
    {
        "dimensions": [{"column": "order_date", "bucket": "week"}],
        "measures": [{"column": "line_count", "agg": "sum"}],
        "filters": [{"column": "month", "op": "between", "value": ["1997-01-01", "1997-06-01"]}],
    },
]
NOT_SERVED = [
    {"dimensions": [{"column": "order_date", "bucket": "day"}], "measures": [{"column": "revenue", "agg": "sum"}]},
    {
        "dimensions": [{"column": "order_date", "bucket": "week"}],
        "measures": [{"column": "revenue", "agg": "sum"}],
        "filters": [{"column": "order_date", "op": "last", "value": "400 days"}],
    },
    {"dimensions": [{"column": "order_date", "bucket": "week"}], "measures": [{"column": "revenue", "agg": "max"}]},
    {"dimensions": ["customer_country"], "measures": [{"column": "revenue", "agg": "sum"}]},
    {"measures": [{"column": "amount", "agg": "max"}]},
    {"measures": [{"column": "customer_id", "agg": "count_distinct"}]},
    {
        "measures": [{"column": "revenue", "agg": "sum"}],
        "filters": [{"column": "order_date", "op": ">=", "value": "1997-01-15"}],
    },
    {"dimensions": [{"column": "order_date", "bucket": "month"}]},
]


@pytest.fixture
def people(northwind):
    kpi_views_refresh_all(full=True)
    return {
        "fuller": persona("fuller", Role.EXECUTIVE, northwind["2"]),
        "vp": persona("vp", Role.MANAGER, northwind["2"]),
        "buchanan": persona("buchanan", Role.MANAGER, northwind["5"]),
        "davolio": persona("davolio", Role.SALES_REP, northwind["1"]),
        "employees": northwind,
    }


def rows(user, payload: dict, filters: DashboardFilters | None = None) -> list[dict]:
    question = question_build(payload={"source": ORDERS, **payload}, filters=filters)
    scope = user_row_scope(user)
    return read._scoped_read(scope, [question_statement(question, _effective_ids(scope, question))])[0]


def every_order(monkeypatch, user, payload: dict, filters: DashboardFilters | None = None) -> list[dict]:
    with monkeypatch.context() as patch:
        patch.setattr(question_module, "question_aggregate_for", lambda question: None)
        return rows(user, payload, filters)


@pytest.mark.parametrize("payload", SERVED)
def test_a_question_the_aggregate_answers_gives_each_persona_the_rows_every_order_gives(people, payload, monkeypatch):
    assert (
        question_aggregate_for(question_build(payload={"source": ORDERS, **payload})).name == "dataset_orders_monthly"
    )
    for name in ("fuller", "vp", "buchanan", "davolio"):
        got = rows(people[name], payload)
        assert got == every_order(monkeypatch, people[name], payload), name
        assert got, name


@pytest.mark.parametrize("payload", BY_WEEK)
def test_a_question_by_week_reads_the_weekly_aggregate_and_gives_each_persona_every_orders_rows(
    people, payload, monkeypatch
):
    assert question_aggregate_for(question_build(payload={"source": ORDERS, **payload})).name == WEEKLY
    for name in ("fuller", "vp", "buchanan", "davolio"):
        got = rows(people[name], payload)
        assert got == every_order(monkeypatch, people[name], payload), name
        assert got, name


def test_the_last_weeks_from_a_monday_are_answered_by_week_and_the_last_days_are_not(people, monkeypatch):
    today = date(1998, 4, 1)  # a Wednesday: the last 10 weeks start on Monday 1998-01-26
    payload = {**BY_WEEK[0], "filters": [{"column": "order_date", "op": "last", "value": "10 weeks"}]}
    weeks = question_build(payload={"source": ORDERS, **payload}, today=today)
    assert question_aggregate_for(weeks).name == WEEKLY
    days = {**payload, "filters": [{"column": "order_date", "op": "last", "value": "70 days"}]}
    assert question_aggregate_for(question_build(payload={"source": ORDERS, **days}, today=today)) is None
    scope = user_row_scope(people["buchanan"])
    got = read._scoped_read(scope, [question_statement(weeks, _effective_ids(scope, weeks))])[0]
    with monkeypatch.context() as patch:
        patch.setattr(question_module, "question_aggregate_for", lambda question: None)
        expected = read._scoped_read(scope, [question_statement(weeks, _effective_ids(scope, weeks))])[0]
    assert got == expected
    assert min(r["order_date"] for r in got) == "1998-01-26"  # from that Monday on


def test_a_question_by_month_still_reads_the_monthly_aggregate_fewer_rows():
    for payload in SERVED:
        assert question_aggregate_for(question_build(payload={"source": ORDERS, **payload})).name == MONTHLY


def test_weeks_across_two_months_keep_a_dashboard_range_of_whole_months_exact(people, monkeypatch):
    payload = BY_WEEK[0]
    months = DashboardFilters(date_from=date(1997, 3, 1), date_to=date(1997, 3, 31))  # 1997-03-31 is a Monday
    assert question_aggregate_for(question_build(payload={"source": ORDERS, **payload}, filters=months)).name == WEEKLY
    for name in ("fuller", "buchanan"):
        assert rows(people[name], payload, months) == every_order(monkeypatch, people[name], payload, months)


def test_a_dashboard_range_of_whole_months_is_answered_and_another_reads_every_order(people, monkeypatch):
    payload = SERVED[0]
    months = DashboardFilters(date_from=date(1997, 1, 1), date_to=date(1997, 6, 30))
    days = DashboardFilters(date_from=date(1997, 1, 15), date_to=date(1997, 6, 30))
    assert question_aggregate_for(question_build(payload={"source": ORDERS, **payload}, filters=months))
    assert question_aggregate_for(question_build(payload={"source": ORDERS, **payload}, filters=days)) is None
    for filters in (months, days):
        assert rows(people["buchanan"], payload, filters) == every_order(
            monkeypatch, people["buchanan"], payload, filters
        )


@pytest.mark.parametrize("payload", NOT_SERVED)
def test_other_questions_read_every_order(people, payload):
    assert question_aggregate_for(question_build(payload={"source": ORDERS, **payload})) is None


def test_the_aggregate_is_what_the_question_reads(people):
    before = rows(people["fuller"], SERVED[4])[0]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE dataset_orders_monthly SET revenue = revenue + 1, order_count = order_count + 1")
        cursor.execute("SELECT count(*) FROM dataset_orders_monthly")
        (groups,) = cursor.fetchone()
    after = rows(people["fuller"], SERVED[4])[0]
    assert after["sum_revenue"] == pytest.approx(before["sum_revenue"] + groups)
    assert after["count"] == before["count"] + groups


def test_an_incremental_refresh_keeps_the_aggregate_in_line(people, monkeypatch):
    Order.objects.create(
        external_id="NEW-1", sales_rep=people["employees"]["6"], order_date=date(1997, 3, 5), amount=Decimal("1000.00")
    )
    kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["1997-03-01"]}})
    assert kpi_view_refresh(view_name=ORDERS).mode == "incremental"
    for payload in [*SERVED[:2], *BY_WEEK]:
        assert rows(people["buchanan"], payload) == every_order(monkeypatch, people["buchanan"], payload)


@pytest.mark.parametrize("aggregate", [MONTHLY, WEEKLY])
def test_the_aggregate_read_without_its_where_clause_shows_only_the_reps_rows(people, aggregate):
    statement = sql.SQL("SELECT DISTINCT sales_rep_id FROM {}").format(sql.Identifier(aggregate))
    seen = read._scoped_read(user_row_scope(people["davolio"]), [(statement, [])])[0]
    assert [r["sales_rep_id"] for r in seen] == [people["employees"]["1"].pk]
