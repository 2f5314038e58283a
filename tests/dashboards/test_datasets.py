"""Datasets: questions over the canonical facts themselves (orders, order lines, ..., joined to their dimensions),
kept by the refresh engine and read through the one row filter and the RLS wall like every KPI view."""

from __future__ import annotations

import pytest
from django.db import connection
from psycopg import sql
from rest_framework.test import APIClient

from accounts.selectors import user_row_scope
from dashboards.kpi import read
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.services.refresh import kpi_views_refresh_all
from tests.factories import Role, persona

pytestmark = pytest.mark.django_db

DATASETS = sorted(name for name, view in KPI_VIEWS.items() if view.dataset)
SCOPED_DATASETS = [name for name in DATASETS if KPI_VIEWS[name].scope_column]


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


def preview(user, question: dict) -> dict:
    response = api(user).post("/api/questions/preview", question, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_seven_datasets_are_declared_with_their_facts():
    assert DATASETS == [
        "dataset_customers",
        "dataset_expenses",
        "dataset_invoices",
        "dataset_order_lines",
        "dataset_orders",
        "dataset_payments",
        "dataset_products",
    ]
    assert all(KPI_VIEWS[name].columns.get("attributes") == "json" for name in DATASETS)


@pytest.mark.parametrize("username, revenue", [("fuller", 1265793.04), ("buchanan", 344581.71), ("davolio", 192107.60)])
def test_orders_dataset_revenue_is_each_personas_contract_figure(built, username, revenue):
    body = preview(built[username], {"source": "dataset_orders", "measures": [{"column": "revenue", "agg": "sum"}]})
    assert body["rows"][0]["sum_revenue"] == pytest.approx(revenue, abs=0.10)


def test_order_lines_dataset_adds_up_to_the_same_revenue_for_a_manager(built):
    body = preview(
        built["buchanan"], {"source": "dataset_order_lines", "measures": [{"column": "revenue", "agg": "sum"}]}
    )
    assert body["rows"][0]["sum_revenue"] == pytest.approx(344581.71, abs=0.10)


def test_rep_sees_only_their_own_orders_by_customer_name(built):
    body = preview(
        built["davolio"],
        {
            "source": "dataset_orders",
            "dimensions": ["sales_rep_name", "customer_name"],
            "measures": [{"agg": "count"}],
            "limit": 10000,
        },
    )
    assert {r["sales_rep_name"] for r in body["rows"]} == {built["employees"]["1"].name}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM canonical_orders o LEFT JOIN canonical_customers c ON c.id = o.customer_id "
            "WHERE COALESCE(o.sales_rep_id, c.sales_rep_id) = %s",
            [built["employees"]["1"].pk],
        )
        assert sum(r["count"] for r in body["rows"]) == cursor.fetchone()[0]


def test_manager_groups_order_lines_by_product_category_within_their_team(built):
    employees = built["employees"]
    team = {employees[e].name for e in ("5", "6", "7", "9")}
    body = preview(
        built["buchanan"],
        {
            "source": "dataset_order_lines",
            "dimensions": ["sales_rep_name"],
            "measures": [{"column": "quantity", "agg": "sum"}],
        },
    )
    assert {r["sales_rep_name"] for r in body["rows"]} == team
    categories = preview(
        built["buchanan"],
        {"source": "dataset_order_lines", "dimensions": ["product_category"], "measures": [{"agg": "count"}]},
    )
    assert "Beverages" in {r["product_category"] for r in categories["rows"]}
    assert categories["chart_type"] == "bar"


def test_company_wide_products_dataset_is_empty_for_a_rep_and_whole_for_an_executive(built):
    question = {"source": "dataset_products", "measures": [{"agg": "count"}]}
    assert preview(built["davolio"], question)["rows"] == []
    assert preview(built["fuller"], question)["rows"][0]["count"] == 77


def test_a_dataset_attributes_column_is_not_a_column_to_pick(built):
    response = api(built["fuller"]).post(
        "/api/questions/preview",
        {"source": "dataset_orders", "dimensions": ["attributes"], "measures": [{"agg": "count"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "dimensions[0].column" in response.json()


@pytest.mark.parametrize("table", SCOPED_DATASETS)
def test_a_dataset_read_without_its_where_clause_sees_only_the_reps_rows(built, table):
    """The RLS wall on every scoped dataset: the reader role sees the rep's rows even when nothing filters."""
    view = KPI_VIEWS[table]
    statement = sql.SQL("SELECT DISTINCT {} AS rep FROM {}").format(
        sql.Identifier(view.scope_column), sql.Identifier(table)
    )
    rows = read._scoped_read(user_row_scope(built["davolio"]), [(statement, [])])[0]
    assert {r["rep"] for r in rows} <= {built["employees"]["1"].pk}
    if table in ("dataset_orders", "dataset_order_lines"):
        assert rows  # Northwind has these facts for davolio: the wall lets her own rows through


def test_company_wide_dataset_read_by_a_rep_sees_no_row_even_without_a_where_clause(built):
    statement = sql.SQL("SELECT count(*) AS n FROM dataset_products")
    assert read._scoped_read(user_row_scope(built["davolio"]), [(statement, [])])[0] == [{"n": 0}]


@pytest.fixture
def regions(built):
    """Region (text) and profit (number) attributes on Northwind's orders, as an upload would keep them."""
    from canonical.services import AttributeUse, attribute_keys_register

    attribute_keys_register(
        table="canonical_orders",
        uses=[AttributeUse("region", "text", "Region"), AttributeUse("profit", "number", "Profit")],
        source_id=None,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE canonical_orders SET attributes = jsonb_build_object("
            "'region', CASE WHEN id % 2 = 0 THEN 'East' ELSE 'West' END, 'profit', 10)"
        )
    kpi_views_refresh_all(full=True, view_names=["dataset_orders"])
    return built


def test_an_orders_attribute_is_a_dimension_and_a_measure_of_the_orders_dataset(regions):
    body = preview(
        regions["buchanan"],
        {
            "source": "dataset_orders",
            "dimensions": ["attributes.region"],
            "measures": [{"column": "revenue", "agg": "sum"}, {"column": "attributes.profit", "agg": "sum"}],
            "sort": ["region"],
        },
    )
    assert [c["name"] for c in body["columns"]] == ["region", "sum_revenue", "sum_profit"]
    assert [r["region"] for r in body["rows"]] == ["East", "West"]
    assert sum(r["sum_revenue"] for r in body["rows"]) == pytest.approx(344581.71, abs=0.10)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM dataset_orders WHERE sales_rep_id = ANY(%s)",
            [sorted(regions["employees"][e].pk for e in ("5", "6", "7", "9"))],
        )
        orders = cursor.fetchone()[0]
    assert sum(r["sum_profit"] for r in body["rows"]) == 10 * orders
    assert body["chart_type"] == "table"  # two measures


def test_a_filter_on_an_attribute_keeps_only_its_rows(regions):
    question = {"source": "dataset_orders", "measures": [{"agg": "count"}]}
    everything = preview(regions["fuller"], question)["rows"][0]["count"]
    east = preview(
        regions["fuller"], {**question, "filters": [{"column": "attributes.region", "op": "=", "value": "East"}]}
    )["rows"][0]["count"]
    assert 0 < east < everything


@pytest.mark.parametrize(
    "question, field",
    [
        ({"dimensions": ["attributes.nope"]}, "dimensions[0].column"),
        ({"dimensions": ["attributes.profit"]}, "dimensions[0].column"),
        ({"measures": [{"column": "attributes.region", "agg": "sum"}]}, "measures[0].agg"),
        ({"filters": [{"column": "attributes.profit", "op": ">", "value": "ten"}]}, "filters[0].value"),
        ({"filters": [{"column": "attributes.region", "op": "last", "value": "12 months"}]}, "filters[0].op"),
    ],
)
def test_bad_attribute_picks_are_refused_on_their_field(regions, question, field):
    body = {"source": "dataset_orders", "measures": [{"agg": "count"}], **question}
    response = api(regions["fuller"]).post("/api/questions/preview", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
