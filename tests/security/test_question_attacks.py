"""Questions under attack: the row filter and the RLS wall hold for every question read, and injection attempts
in every field (columns, aggregations, buckets, operators, filter values, sort, limit) are refused with a 400
naming the field, or stay bound values. Nothing reaches SQL as text."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.selectors import user_row_scope
from dashboards.kpi import read
from dashboards.kpi.question import question_build, question_statement
from dashboards.selectors import _effective_ids, question_rows_for_user
from dashboards.services.dashboards import dashboard_create
from tests.dashboards.conftest import _fresh_cache, sales_kpi  # noqa: F401  (fixtures)

SQL = "revenue); DROP TABLE test_sales_kpi; --"
BY_REP = {
    "source": "test_sales_kpi",
    "dimensions": ["sales_rep_id"],
    "measures": [{"column": "revenue", "agg": "sum"}],
}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def table_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM test_sales_kpi")
        return cursor.fetchone()[0]


def by_rep(user) -> dict[int, float]:
    response = api(user).post("/api/questions/preview", BY_REP, format="json")
    assert response.status_code == 200, response.content
    return {r["sales_rep_id"]: r["sum_revenue"] for r in response.json()["rows"]}


def test_a_reps_preview_holds_their_own_rows_only(rep, kpi):
    assert by_rep(rep) == {kpi["1"].pk: 300.30}


def test_a_managers_preview_holds_their_teams_rows_only(manager, kpi):
    assert by_rep(manager) == {kpi["5"].pk: 110.00, kpi["6"].pk: 16.00}


def test_an_executives_preview_holds_every_rep(executive, kpi):
    assert set(by_rep(executive)) == {kpi[e].pk for e in ("1", "3", "5", "6")}


def test_a_question_compiled_without_the_scope_still_sees_only_the_callers_rows(rep, manager, kpi):
    """The second wall: even a statement built as if for every row is cut to the caller's rows by RLS."""
    question = question_build(payload=BY_REP)
    statement = question_statement(question, None)  # no access predicate at all
    for user, expected in ((rep, {"1"}), (manager, {"5", "6"})):
        rows = read._scoped_read(user_row_scope(user), [statement])[0]
        assert {r["sales_rep_id"] for r in rows} == {kpi[e].pk for e in expected}


def test_question_reads_take_their_ids_from_the_one_row_filter(rep, kpi, monkeypatch):
    seen = []

    def spy(scope, query):
        seen.append(query)
        return _effective_ids(scope, query)

    monkeypatch.setattr("dashboards.selectors._effective_ids", spy)
    question = question_build(payload=BY_REP)
    question_rows_for_user(user=rep, question=question)
    assert seen and all(q is question for q in seen)


def test_a_company_wide_view_is_not_shown_to_a_scoped_caller(manager, executive, kpi):
    question = {"source": "test_company_kpi", "measures": [{"column": "revenue", "agg": "sum"}]}
    assert api(manager).post("/api/questions/preview", question, format="json").json()["rows"] == []
    rows = api(executive).post("/api/questions/preview", question, format="json").json()["rows"]
    assert rows == [{"sum_revenue": 30.0}]


def test_cached_rows_are_never_served_to_another_scope(rep, manager, kpi):
    assert by_rep(manager) != by_rep(rep)
    assert by_rep(rep) == {kpi["1"].pk: 300.30}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"source": "test_sales_kpi; DROP TABLE test_sales_kpi"}, "source"),
        ({"source": "pg_authid"}, "source"),
        ({"dimensions": [SQL]}, "dimensions[0].column"),
        ({"dimensions": ['sales_rep_id" FROM pg_authid --']}, "dimensions[0].column"),
        ({"dimensions": [{"column": "month", "bucket": "month', month) FROM pg_authid --"}]}, "dimensions[0].bucket"),
        ({"dimensions": [{"column": "month", "extra": "x"}]}, "dimensions[0]"),
        ({"measures": [{"column": SQL, "agg": "sum"}]}, "measures[0].column"),
        ({"measures": [{"column": "revenue", "agg": "pg_sleep"}]}, "measures[0].agg"),
        ({"measures": [{"column": "revenue", "agg": "sum(revenue)); DROP TABLE x; --"}]}, "measures[0].agg"),
        ({"filters": [{"column": SQL, "op": "=", "value": 1}]}, "filters[0].column"),
        ({"filters": [{"column": "revenue", "op": "= 0 OR 1=1 --", "value": 1}]}, "filters[0].op"),
        ({"filters": [{"column": "sales_rep_id", "op": "=", "value": "1 OR 1=1"}]}, "filters[0].value"),
        ({"filters": [{"column": "sales_rep_id", "op": "in", "value": ["1) OR (1=1"]}]}, "filters[0].value[0]"),
        ({"filters": [{"column": "month", "op": "=", "value": "2024-01-01' OR '1'='1"}]}, "filters[0].value"),
        ({"filters": [{"column": "month", "op": "last", "value": "1 month'); DROP TABLE x; --"}]}, "filters[0].value"),
        ({"filters": [{"column": "revenue", "op": ">", "value": {"$gt": 0}}]}, "filters[0].value"),
        ({"sort": ["-sum_revenue; DROP TABLE test_sales_kpi"]}, "sort[0]"),
        ({"sort": ["sales_rep_id DESC, (SELECT 1)"]}, "sort[0]"),
        ({"limit": "10; DROP TABLE x"}, "limit"),
        ({"limit": 10**12}, "limit"),
    ],
)
def test_injection_in_every_field_is_refused_naming_it(executive, kpi, change, field):
    before = table_rows()
    response = api(executive).post("/api/questions/preview", {**BY_REP, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert table_rows() == before


def test_sql_in_a_text_filter_value_is_a_bound_value(executive, kpi):
    question = {
        "source": "test_company_kpi",
        "dimensions": ["category"],
        "measures": [{"column": "revenue", "agg": "sum"}],
        "filters": [{"column": "category", "op": "=", "value": "x' OR '1'='1"}],
    }
    response = api(executive).post("/api/questions/preview", question, format="json")
    assert response.status_code == 200
    assert response.json()["rows"] == []
    question["filters"][0] = {
        "column": "category",
        "op": "in",
        "value": ["Seafood", "'); DROP TABLE test_company_kpi; --"],
    }
    assert api(executive).post("/api/questions/preview", question, format="json").json()["rows"] == [
        {"category": "Seafood", "sum_revenue": 20.0}
    ]


def test_the_builder_page_refuses_injection_in_its_fields_with_a_400(executive, kpi):
    client = Client()
    client.force_login(executive)
    base = {"source": "test_sales_kpi", "shown_source": "test_sales_kpi", "measure_column": "revenue",
            "measure_agg": "sum"}  # fmt: skip
    for change in (
        {"dimension_1": SQL},
        {"measure_agg": "sum); DROP TABLE x; --"},
        {"filter_column_1": "sales_rep_id", "filter_op_1": "=", "filter_value_1": "1 OR 1=1"},
        {"filter_column_1": "revenue", "filter_op_1": "; DROP", "filter_value_1": "1"},
        {"sort": "-sum_revenue; DROP TABLE x"},
        {"source": "<script>alert(1)</script>", "shown_source": ""},
    ):
        response = client.get("/dashboards/questions/", {**base, **change})
        assert response.status_code == 400, change
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert table_rows() == 8


def test_saving_a_question_checks_the_dashboard_and_the_question(executive, rep, outsider, kpi):
    dashboard = dashboard_create(title="Exec", owner=executive)
    body = {**BY_REP, "dashboard": dashboard.pk, "chart_type": "bar"}
    assert api(outsider).post("/api/questions/", body, format="json").status_code == 403
    assert api(rep).post("/api/questions/", body, format="json").status_code == 403
    assert APIClient().post("/api/questions/", body, format="json").status_code == 401
    bad = api(executive).post("/api/questions/", {**body, "chart_type": "vega"}, format="json")
    assert bad.status_code == 400 and "chart_type" in bad.json()
    bad = api(executive).post("/api/questions/", {**body, "sort": [SQL]}, format="json")
    assert bad.status_code == 400 and "sort[0]" in bad.json()
    assert dashboard.widgets.count() == 0
    assert api(executive).post("/api/questions/", body, format="json").status_code == 201
    data = api(executive).get(f"/api/dashboard/{dashboard.pk}/data").json()
    assert {r["sales_rep_id"] for r in data["widgets"][0]["rows"]} == {kpi[e].pk for e in ("1", "3", "5", "6")}


@pytest.fixture
def kpi(sales_kpi):  # noqa: F811
    """The stand-in KPI table's employees (rows of reps 1, 3, 5 and 6)."""
    return sales_kpi


@pytest.mark.django_db
@pytest.mark.parametrize(
    "item, field",
    [
        ({"dimensions": ["attributes.region'); DROP TABLE canonical_orders; --"]}, "dimensions[0].column"),
        ({"dimensions": ["attributes."]}, "dimensions[0].column"),
        ({"measures": [{"column": "attributes.region->>0", "agg": "sum"}]}, "measures[0].column"),
        ({"filters": [{"column": "attributes.*", "op": "=", "value": "x"}]}, "filters[0].column"),
        ({"dimensions": ["attributes"]}, "dimensions[0].column"),
    ],
)
def test_attribute_fields_are_allow_listed_by_the_registry_and_never_reach_sql_as_text(executive, item, field):
    """Only keys registered on the dataset's table (canonical.selectors.attribute_keys) are fields of a question."""
    from canonical.services import AttributeUse, attribute_keys_register

    attribute_keys_register(table="canonical_orders", uses=[AttributeUse("region", "text", "Region")], source_id=None)
    body = {"source": "dataset_orders", "measures": [{"agg": "count"}], **item}
    response = api(executive).post("/api/questions/preview", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('canonical_orders') IS NOT NULL")
        assert cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_registered_attribute_key_is_bound_not_spliced(executive):
    from canonical.services import AttributeUse, attribute_keys_register

    attribute_keys_register(table="canonical_orders", uses=[AttributeUse("region", "text", "Region")], source_id=None)
    question = question_build(
        payload={"source": "dataset_orders", "dimensions": ["attributes.region"], "measures": [{"agg": "count"}]}
    )
    statement, params = question_statement(question, None)
    assert "region" in params
    assert "'region'" not in statement.as_string(connection.connection)
