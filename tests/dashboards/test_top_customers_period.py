"""The "Top customers" widget follows the dashboard's date range like every other widget: a dated read sums the
month helper within the range and the caller's scope (through the one row-filtering function), the page, the
API, the CSV export and the cache agree, and the widget says which period it covers. Figures are checked
against a direct SQL sum over the canonical Northwind rows (the revenue rule's view, kpi_order_revenue)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from django.db import connection

from canonical.models import Customer
from dashboards.filters import DashboardFilters
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.selectors import kpi_rows_for_user
from dashboards.services.demo import demo_dashboards_ensure, demo_widget_query
from dashboards.services.refresh import kpi_views_refresh_all
from tests.dashboards.test_api import api_for
from tests.factories import PASSWORD, Role, persona

TOP_CUSTOMERS_QUERY = demo_widget_query("sales-overview", "Top customers")  # the demo widget's own query

FIRST_HALF_1997 = DashboardFilters(date_from=date(1997, 1, 1), date_to=date(1997, 6, 30))
QUERY = "?from=1997-01&to=1997-06"


def top_customers_sql(*, employee_ids=None, date_from=None, date_to=None, limit=10) -> list[tuple[int, str, float]]:
    """The ranking computed straight from the canonical rows: revenue per customer id in range and scope."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.customer_id, c.name, round(sum(r.revenue), 2) AS revenue "
            "FROM kpi_order_revenue r JOIN canonical_customers c ON c.id = r.customer_id "
            "WHERE (%(ids)s::bigint[] IS NULL OR r.sales_rep_id = ANY(%(ids)s::bigint[])) "
            "AND (%(lo)s::date IS NULL OR r.order_date >= %(lo)s) AND (%(hi)s::date IS NULL OR r.order_date <= %(hi)s) "
            "GROUP BY r.customer_id, c.name ORDER BY revenue DESC, r.customer_id LIMIT %(limit)s",
            {"ids": employee_ids, "lo": date_from, "hi": date_to, "limit": limit},
        )
        return [(cid, name, float(revenue)) for cid, name, revenue in cursor.fetchall()]


def as_tuples(rows: list[dict]) -> list[tuple[int, str, float]]:
    return [(r["customer_id"], r["customer_name"], r["revenue"]) for r in rows]


@pytest.fixture
def demo(northwind):
    kpi_views_refresh_all(full=True)
    users = {
        "fuller": persona("fuller", Role.EXECUTIVE, northwind["2"]),
        "buchanan": persona("buchanan", Role.MANAGER, northwind["5"]),
        "davolio": persona("davolio", Role.SALES_REP, northwind["1"]),
        "outsider": persona("outsider", Role.SALES_REP),
    }
    admin = persona("admin", Role.ADMIN)
    admin.is_superuser = True
    admin.save()
    demo_dashboards_ensure()
    from dashboards.models import Dashboard

    dashboard = Dashboard.objects.get(slug="sales-overview")
    return {"users": users, "employees": northwind, "dashboard": dashboard}


def team_of_buchanan(employees) -> list[int]:
    return [employees[e].pk for e in ("5", "6", "7", "9")]


def test_an_executives_top_customers_within_a_date_range_match_the_canonical_rows(demo):
    rows = kpi_rows_for_user(
        user=demo["users"]["fuller"], view_name="top_customers", options=TOP_CUSTOMERS_QUERY, filters=FIRST_HALF_1997
    )
    expected = top_customers_sql(date_from=date(1997, 1, 1), date_to=date(1997, 6, 30))
    assert as_tuples(rows) == expected
    assert len(rows) == 10
    all_time = kpi_rows_for_user(user=demo["users"]["fuller"], view_name="top_customers", options=TOP_CUSTOMERS_QUERY)
    assert as_tuples(all_time) == top_customers_sql()
    assert as_tuples(all_time) != expected  # the range changes the figures: it is not ignored


def test_a_managers_dated_top_customers_stay_within_their_team(demo):
    employees = demo["employees"]
    rows = kpi_rows_for_user(
        user=demo["users"]["buchanan"], view_name="top_customers", options=TOP_CUSTOMERS_QUERY, filters=FIRST_HALF_1997
    )
    expected = top_customers_sql(
        employee_ids=team_of_buchanan(employees), date_from=date(1997, 1, 1), date_to=date(1997, 6, 30)
    )
    assert rows and as_tuples(rows) == expected


def test_a_reps_dated_top_customers_are_their_own_and_the_rep_filter_narrows_an_executives(demo):
    employees = demo["employees"]
    davolio = [employees["1"].pk]
    expected = top_customers_sql(employee_ids=davolio, date_from=date(1997, 1, 1), date_to=date(1997, 6, 30))
    rows = kpi_rows_for_user(
        user=demo["users"]["davolio"], view_name="top_customers", options=TOP_CUSTOMERS_QUERY, filters=FIRST_HALF_1997
    )
    assert as_tuples(rows) == expected
    narrowed = DashboardFilters(date_from=date(1997, 1, 1), date_to=date(1997, 6, 30), rep=employees["1"].pk)
    rows = kpi_rows_for_user(
        user=demo["users"]["fuller"], view_name="top_customers", options=TOP_CUSTOMERS_QUERY, filters=narrowed
    )
    assert as_tuples(rows) == expected


def test_an_ungrouped_dated_read_has_the_rollups_columns_with_summed_measures(demo):
    rows = kpi_rows_for_user(
        user=demo["users"]["fuller"],
        view_name="top_customers",
        options={"order_by": ["-revenue"], "limit": 3},
        filters=FIRST_HALF_1997,
    )
    assert list(rows[0]) == list(KPI_VIEWS["top_customers"].columns)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM kpi_order_revenue WHERE customer_id = %s AND sales_rep_id = %s "
            "AND order_date BETWEEN '1997-01-01' AND '1997-06-30'",
            [rows[0]["customer_id"], rows[0]["sales_rep_id"]],
        )
        assert rows[0]["order_count"] == cursor.fetchone()[0]


def test_the_outsider_gets_no_dated_top_customers(demo):
    rows = kpi_rows_for_user(
        user=demo["users"]["outsider"], view_name="top_customers", options=TOP_CUSTOMERS_QUERY, filters=FIRST_HALF_1997
    )
    assert rows == []


def test_two_customers_with_the_same_name_are_ranked_apart(demo):
    first, second = top_customers_sql()[0][0], top_customers_sql()[1][0]
    Customer.objects.filter(pk__in=[first, second]).update(name="Same Name")
    kpi_views_refresh_all(full=True)
    for user in (demo["users"]["fuller"], demo["users"]["buchanan"]):
        rows = kpi_rows_for_user(user=user, view_name="top_customers", options=TOP_CUSTOMERS_QUERY)
        assert as_tuples(rows) == top_customers_sql(
            employee_ids=None if user.username == "fuller" else team_of_buchanan(demo["employees"])
        )
    rows = kpi_rows_for_user(user=demo["users"]["fuller"], view_name="top_customers", options=TOP_CUSTOMERS_QUERY)
    assert [(r["customer_id"], r["customer_name"]) for r in rows[:2]] == [(first, "Same Name"), (second, "Same Name")]


def test_the_page_the_api_and_the_export_show_the_same_dated_top_customers(client, demo):
    manager = demo["users"]["buchanan"]
    dashboard = demo["dashboard"]
    widget = dashboard.widgets.get(title="Top customers")
    expected = top_customers_sql(
        employee_ids=team_of_buchanan(demo["employees"]), date_from=date(1997, 1, 1), date_to=date(1997, 6, 30)
    )
    payload = api_for(manager).get(f"/api/dashboard/{dashboard.pk}/data{QUERY}").json()
    (api_widget,) = [w for w in payload["widgets"] if w["title"] == "Top customers"]
    assert as_tuples(api_widget["rows"]) == expected
    assert api_widget["period"] == {"from": "1997-01-01", "to": "1997-06-30"}
    assert api_widget["all_time"] is False

    assert client.login(username=manager.username, password=PASSWORD)
    body = client.get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/{QUERY}", HTTP_HX_REQUEST="true")
    text = body.content.decode()
    assert 'data-testid="period">Jan 1997 – Jun 1997<' in text
    assert 'data-testid="all-time"' not in text
    chart = re.search(rf'<script id="widget-data-{widget.pk}" type="application/json">(.*?)</script>', text, re.S)
    assert as_tuples(json.loads(chart.group(1))["rows"]) == expected

    export = client.get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/export.csv{QUERY}")
    exported = [
        (int(r["customer_id"]), r["customer_name"], float(r["revenue"]))
        for r in csv.DictReader(io.StringIO(export.content.decode()))
    ]
    assert exported == expected


def test_without_a_date_range_the_widget_says_all_time_and_the_api_has_no_period(client, demo):
    manager = demo["users"]["buchanan"]
    dashboard = demo["dashboard"]
    widget = dashboard.widgets.get(title="Top customers")
    payload = api_for(manager).get(f"/api/dashboard/{dashboard.pk}/data").json()
    (api_widget,) = [w for w in payload["widgets"] if w["title"] == "Top customers"]
    assert api_widget["period"] is None
    assert as_tuples(api_widget["rows"]) == top_customers_sql(employee_ids=team_of_buchanan(demo["employees"]))
    assert client.login(username=manager.username, password=PASSWORD)
    text = client.get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="all-time"' in text and "does not apply" not in text
    assert 'data-testid="period"' not in text


def test_a_cached_all_time_ranking_is_not_served_for_a_date_range(demo):
    fuller = demo["users"]["fuller"]
    all_time = kpi_rows_for_user(user=fuller, view_name="top_customers", options=TOP_CUSTOMERS_QUERY)
    dated = kpi_rows_for_user(
        user=fuller, view_name="top_customers", options=TOP_CUSTOMERS_QUERY, filters=FIRST_HALF_1997
    )
    assert as_tuples(dated) != as_tuples(all_time)
