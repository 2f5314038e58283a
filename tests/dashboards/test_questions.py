"""Questions: a user's own read of a KPI view through `POST /api/questions/preview`, saved as a widget through
`POST /api/questions/`, always under the caller's row scope (the one row filter, the RLS wall)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from rest_framework.test import APIClient

from dashboards.kpi.question import question_build, relative_start
from dashboards.services.dashboards import dashboard_create, dashboard_share
from dashboards.services.refresh import kpi_views_refresh_all
from tests.factories import Role, persona

pytestmark = pytest.mark.django_db

REVENUE = {"source": "monthly_revenue", "measures": [{"column": "revenue", "agg": "sum"}]}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def built(northwind):
    kpi_views_refresh_all(full=True)
    return {
        "fuller": persona("fuller", Role.EXECUTIVE, northwind["2"]),
        "buchanan": persona("buchanan", Role.MANAGER, northwind["5"]),
        "davolio": persona("davolio", Role.SALES_REP, northwind["1"]),
        "employees": northwind,
    }


def truth(sql_text: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql_text, params)
        return cursor.fetchall()


@pytest.mark.parametrize("username, revenue", [("fuller", 1265793.04), ("buchanan", 344581.71), ("davolio", 192107.60)])
def test_total_revenue_question_gives_each_demo_persona_their_contract_figure(built, username, revenue):
    response = api(built[username]).post("/api/questions/preview", REVENUE, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["columns"] == [{"name": "sum_revenue", "type": "money", "role": "measure", "bucket": None}]
    assert body["row_count"] == 1
    assert body["rows"][0]["sum_revenue"] == pytest.approx(revenue, abs=0.10)
    assert body["elapsed_ms"] >= 0
    assert body["chart_type"] == "number"


def test_manager_revenue_by_rep_holds_only_their_team(built):
    employees = built["employees"]
    team = {employees[e].pk for e in ("5", "6", "7", "9")}
    question = {**REVENUE, "dimensions": ["sales_rep_id"], "sort": ["-sum_revenue"]}
    rows = api(built["buchanan"]).post("/api/questions/preview", question, format="json").json()["rows"]
    assert {r["sales_rep_id"] for r in rows} == team
    expected = dict(
        truth(
            "SELECT sales_rep_id, round(sum(revenue), 2) FROM monthly_revenue GROUP BY 1 HAVING sales_rep_id = ANY(%s)",
            [sorted(team)],
        )
    )
    assert {r["sales_rep_id"]: r["sum_revenue"] for r in rows} == pytest.approx(
        {k: float(v) for k, v in expected.items()}
    )
    assert [r["sum_revenue"] for r in rows] == sorted((r["sum_revenue"] for r in rows), reverse=True)


def test_revenue_by_quarter_buckets_months_and_suggests_a_line(built):
    question = {**REVENUE, "dimensions": [{"column": "month", "bucket": "quarter"}]}
    body = api(built["fuller"]).post("/api/questions/preview", question, format="json").json()
    assert body["chart_type"] == "line"
    expected = truth(
        "SELECT date_trunc('quarter', month)::date, round(sum(revenue), 2) FROM monthly_revenue GROUP BY 1 ORDER BY 1"
    )
    assert [(r["month"], r["sum_revenue"]) for r in body["rows"]] == [(d.isoformat(), float(v)) for d, v in expected]
    assert body["rows"][0]["month"] == "1996-07-01"


def test_filters_narrow_within_the_scope(built):
    question = {
        **REVENUE,
        "measures": [{"column": "revenue", "agg": "sum"}, {"column": "order_count", "agg": "sum"}, {"agg": "count"}],
        "filters": [
            {"column": "month", "op": "between", "value": ["1997-01-01", "1997-12-31"]},
            {"column": "revenue", "op": ">", "value": 1000},
        ],
    }
    (row,) = api(built["davolio"]).post("/api/questions/preview", question, format="json").json()["rows"]
    ((revenue, orders, count),) = truth(
        "SELECT round(sum(revenue), 2), sum(order_count), count(*) FROM monthly_revenue WHERE sales_rep_id = %s "
        "AND month BETWEEN '1997-01-01' AND '1997-12-31' AND revenue > 1000",
        [built["employees"]["1"].pk],
    )
    assert row == {"sum_revenue": float(revenue), "sum_order_count": orders, "count": count}


def test_customer_category_question_uses_text_dimensions_and_in_filter(built):
    question = {
        "source": "revenue_by_category",
        "dimensions": ["category"],
        "measures": [{"column": "revenue", "agg": "max"}],
        "filters": [{"column": "category", "op": "in", "value": ["Beverages", "Seafood", "' OR 1=1 --"]}],
    }
    body = api(built["fuller"]).post("/api/questions/preview", question, format="json").json()
    assert [r["category"] for r in body["rows"]] == ["Beverages", "Seafood"]
    assert body["chart_type"] == "bar"


def test_relative_dates_start_at_the_first_day_of_the_period():
    today = date(2026, 12, 6)
    assert relative_start(12, "month", today) == date(2026, 1, 1)
    assert relative_start(1, "month", today) == date(2026, 12, 1)
    assert relative_start(2, "quarter", today) == date(2026, 7, 1)
    assert relative_start(1, "year", today) == date(2026, 1, 1)
    assert relative_start(7, "day", today) == date(2026, 11, 30)
    assert relative_start(1, "week", today) == date(2026, 11, 30)  # a Monday


def test_last_12_months_of_the_data_reads_only_those_months(built):
    question = {**REVENUE, "filters": [{"column": "month", "op": "last", "value": "12 months"}]}
    built_question = question_build(payload=question, today=date(1998, 5, 6))
    assert built_question.filters[0].values[0] == date(1997, 6, 1)
    body = api(built["fuller"]).post("/api/questions/preview", question, format="json").json()
    assert body["rows"] == [{"sum_revenue": None}]  # today is decades after Northwind's last order


def test_distinct_counts_are_counted_from_the_membership_table(built):
    question = {
        "source": "new_vs_returning_customers",
        "dimensions": ["sales_rep_id"],
        "measures": [{"column": "new_customers", "agg": "sum"}],
    }
    rows = api(built["fuller"]).post("/api/questions/preview", question, format="json").json()["rows"]
    expected = dict(
        truth(
            "SELECT sales_rep_id, count(DISTINCT customer_id) FILTER (WHERE is_new) "
            "FROM new_vs_returning_members GROUP BY 1"
        )
    )
    assert {r["sales_rep_id"]: r["sum_new_customers"] for r in rows} == expected
    refused = api(built["fuller"]).post(
        "/api/questions/preview",
        {**question, "measures": [{"column": "new_customers", "agg": "avg"}]},
        format="json",
    )
    assert refused.status_code == 400
    assert "measures[0].agg" in refused.json()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"source": "no_such_view"}, "source"),
        ({"source": "kpi_order_facts"}, "source"),  # internal helper
        ({"measures": [{"column": "nope", "agg": "sum"}]}, "measures[0].column"),
        ({"measures": [{"column": "revenue", "agg": "median"}]}, "measures[0].agg"),
        ({"measures": [{"column": "month", "agg": "sum"}]}, "measures[0].agg"),
        ({"dimensions": ["revenue"]}, "dimensions[0].column"),
        ({"dimensions": [{"column": "sales_rep_id", "bucket": "month"}]}, "dimensions[0].bucket"),
        ({"dimensions": [{"column": "month", "bucket": "decade"}]}, "dimensions[0].bucket"),
        ({"filters": [{"column": "month", "op": "=", "value": 12}]}, "filters[0].value"),
        ({"filters": [{"column": "revenue", "op": "=", "value": "lots"}]}, "filters[0].value"),
        ({"filters": [{"column": "sales_rep_id", "op": "in", "value": [1, "2"]}]}, "filters[0].value[1]"),
        ({"filters": [{"column": "revenue", "op": "last", "value": "12 months"}]}, "filters[0].op"),
        ({"filters": [{"column": "month", "op": "last", "value": "a while"}]}, "filters[0].value"),
        ({"filters": [{"column": "month", "op": "like", "value": "x"}]}, "filters[0].op"),
        ({"sort": ["revenue"]}, "sort[0]"),
        ({"limit": 10_001}, "limit"),
        ({"limit": 0}, "limit"),
        ({"measures": []}, "measures"),
    ],
)
def test_bad_questions_answer_400_naming_the_field(built, change, field):
    response = api(built["fuller"]).post("/api/questions/preview", {**REVENUE, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_outsider_and_admin_role_may_not_ask_questions(built):
    for name, role in (("outsider", None), ("steward", Role.ADMIN)):
        user = persona(name, role)
        assert api(user).post("/api/questions/preview", REVENUE, format="json").status_code == 403
    assert APIClient().post("/api/questions/preview", REVENUE, format="json").status_code == 401


def test_saved_question_comes_back_in_the_data_api_for_each_scope(built):
    owner = built["fuller"]
    dashboard = dashboard_create(title="Questions", owner=owner)
    for user in (built["buchanan"], built["davolio"]):
        dashboard_share(dashboard=dashboard, level="view", username=user.username)
    saved = api(owner).post(
        "/api/questions/",
        {**REVENUE, "dashboard": dashboard.pk, "title": "Revenue, asked"},
        format="json",
    )
    assert saved.status_code == 201, saved.content
    assert saved.json()["chart_type"] == "number"
    for username, revenue in (("fuller", 1265793.04), ("buchanan", 344581.71), ("davolio", 192107.60)):
        data = api(built[username]).get(f"/api/dashboard/{dashboard.pk}/data").json()
        (widget,) = data["widgets"]
        assert widget["error"] == ""
        assert widget["rows"][0]["sum_revenue"] == pytest.approx(revenue, abs=0.10), username


def test_saving_needs_a_dashboard_the_user_may_change(built):
    dashboard = dashboard_create(title="Fuller's", owner=built["fuller"])
    dashboard_share(dashboard=dashboard, level="view", username="buchanan")
    body = {**REVENUE, "dashboard": dashboard.pk}
    assert api(built["buchanan"]).post("/api/questions/", body, format="json").status_code == 403
    assert api(built["davolio"]).post("/api/questions/", body, format="json").status_code == 403
    assert api(built["fuller"]).post("/api/questions/", {**body, "dashboard": 10**9}, format="json").status_code == 404
    dashboard_share(dashboard=dashboard, level="change", username="buchanan")
    saved = api(built["buchanan"]).post(
        "/api/questions/", {**body, "dimensions": ["month"], "chart_type": "bar"}, format="json"
    )
    assert saved.status_code == 201, saved.content
    bad = api(built["fuller"]).post(
        "/api/questions/", {**body, "measures": [{"column": "x", "agg": "sum"}]}, format="json"
    )
    assert bad.status_code == 400 and "measures[0].column" in bad.json()
    assert dashboard.widgets.count() == 1


def test_a_relative_date_question_is_cached_under_the_days_start():
    question = {**REVENUE, "filters": [{"column": "month", "op": "last", "value": "12 months"}]}
    june = question_build(payload=question, today=date(1998, 6, 30))
    july = question_build(payload=question, today=date(1998, 7, 1))
    assert june.payload() == july.payload()
    assert june.cache_part() != july.cache_part()
