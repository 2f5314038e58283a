"""Undated revenue: order lines loaded before their orders point at placeholder orders with no date. Their revenue
is in no month (no blank month in monthly_revenue); widgets of monthly_revenue say how much waits and how many lines,
and incremental refreshes stay equal to full ones when the orders file dates them later."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import transaction

from dashboards.services.dashboards import dashboard_create, dashboard_share
from dashboards.services.refresh import kpi_refresh_mark_touched, kpi_view_refresh, kpi_views_refresh_all
from dashboards.services.widgets import widget_create, widget_spec_build
from tests.dashboards.kpi_helpers import all_tables, scalar
from tests.dashboards.test_api import api_for
from tests.dashboards.test_pages import login
from tests.mappings.helpers import field, run, upload_text
from tests.mappings.olist import MAPPINGS, REAL, read_rows

pytestmark = pytest.mark.django_db

LINES_CSV = "order,product,qty,price\nW1,P1,2,10.00\nW1,P2,1,5.50\nW2,P1,3,10.00\n"
LINE_FIELDS = [
    field("order", "canonical_order_lines", "order_id"),
    field("product", "canonical_order_lines", "product_id"),
    field("qty", "canonical_order_lines", "quantity"),
    field("price", "canonical_order_lines", "unit_price"),
]
ORDERS_CSV = "order,date,rep\nW1,2024-03-05,1\nW2,2024-04-10,5\nD1,2024-03-20,1\n"
ORDER_FIELDS = [
    field("order", "canonical_orders", "external_id"),
    field("date", "canonical_orders", "order_date"),
    field("rep", "canonical_orders", "sales_rep_id"),
    field(None, "canonical_orders", "amount", [{"op": "constant", "value": "100.00"}]),
]
INCREMENTAL = ["monthly_revenue", "revenue_by_category", "order_fulfillment", "top_products", "top_customers"]


def load(tmp_path, text: str, fields: list[dict], name: str):
    job = run(upload_text(tmp_path, text, name=name), fields)
    assert job.status == "succeeded", job.report
    return job


def refresh_as_after_the_execution(job) -> None:
    for name in kpi_refresh_mark_touched(touched=job.report["touched"], source_id=job.source_id):
        kpi_view_refresh(view_name=name)


def test_lines_waiting_for_their_order_are_undated_revenue_not_a_blank_month(nw_employees, tmp_path):
    load(tmp_path, ORDERS_CSV.splitlines()[0] + "\nD1,2024-03-20,1\n", ORDER_FIELDS, "first.csv")
    kpi_views_refresh_all(full=True)
    job = load(tmp_path, LINES_CSV, LINE_FIELDS, "lines.csv")

    refresh_as_after_the_execution(job)

    assert scalar("SELECT count(*) FROM monthly_revenue WHERE month IS NULL") == 0
    assert scalar("SELECT count(*) FROM order_fulfillment WHERE month IS NULL") == 0
    assert scalar("SELECT sum(revenue) FROM monthly_revenue") == Decimal("100.00")
    undated = "SELECT (revenue::numeric(14, 2), order_count, line_count)::text FROM undated_revenue"
    assert scalar(undated) == "(55.50,2,3)"


def test_incremental_refreshes_equal_full_ones_when_the_orders_file_dates_the_waiting_lines(nw_employees, tmp_path):
    lines = load(tmp_path, LINES_CSV, LINE_FIELDS, "lines.csv")
    refresh_as_after_the_execution(lines)
    kpi_views_refresh_all(full=True)
    orders = load(tmp_path, ORDERS_CSV, ORDER_FIELDS, "orders.csv")

    refresh_as_after_the_execution(orders)
    incremental = all_tables()
    with transaction.atomic():
        kpi_views_refresh_all(full=True)
        full = all_tables()
        transaction.set_rollback(True)

    assert incremental == full
    assert scalar("SELECT count(*) FROM undated_revenue") == 0
    # The lines are the orders' revenue now, in their months (a line's revenue beats the order's amount).
    by_month = (
        "SELECT string_agg(month || ' ' || revenue::numeric(14, 2), ', ' ORDER BY month) FROM monthly_revenue_all_reps"
    )
    assert scalar(by_month) == "2024-03-01 125.50, 2024-04-01 30.00"


@pytest.fixture
def undated_dashboard(nw_employees, tmp_path, executive, manager):
    load(tmp_path, ORDERS_CSV.splitlines()[0] + "\nD1,2024-03-20,1\n", ORDER_FIELDS, "first.csv")
    load(tmp_path, LINES_CSV, LINE_FIELDS, "lines.csv")
    kpi_views_refresh_all(full=True)
    dashboard = dashboard_create(title="Undated", owner=executive)
    for chart_type, title in (("number", "Revenue"), ("area", "Monthly revenue")):
        widget_create(
            dashboard=dashboard,
            title=title,
            chart_type=chart_type,
            view_name="monthly_revenue",
            vega_spec=widget_spec_build(chart_type=chart_type, view_name="monthly_revenue", x="month", y="revenue"),
            query_options={"measures": ["revenue"]} if chart_type == "number" else {},
        )
    dashboard_share(dashboard=dashboard, level="view", username=manager.username)
    return dashboard


def widget_body(client, dashboard, title: str) -> str:
    widget = dashboard.widgets.get(title=title)
    response = client.get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_a_monthly_revenue_widget_says_how_much_revenue_and_how_many_lines_wait_for_their_order(
    client, undated_dashboard, executive
):
    login(client, executive)
    for title in ("Revenue", "Monthly revenue"):
        body = widget_body(client, undated_dashboard, title)
        note = re.search(r'data-testid="undated">([^<]*)<', body)
        assert note, body
        assert note.group(1) == (
            "Undated: 55.50 not in any month — 3 order lines wait for their order (2 orders not loaded yet)."
        )
    assert re.search(r'data-testid="kpi-number">100\.00<', widget_body(client, undated_dashboard, "Revenue"))


def test_the_data_api_gives_the_undated_revenue_beside_the_rows(undated_dashboard, executive):
    payload = api_for(executive).get(f"/api/dashboard/{undated_dashboard.pk}/data").json()

    assert {w["title"]: w["undated"] for w in payload["widgets"]} == {
        "Revenue": {"revenue": 55.5, "order_count": 2, "line_count": 3},
        "Monthly revenue": {"revenue": 55.5, "order_count": 2, "line_count": 3},
    }


def test_a_manager_does_not_see_undated_revenue_of_no_rep_of_his_team(client, undated_dashboard, manager):
    login(client, manager)

    assert 'data-testid="undated"' not in widget_body(client, undated_dashboard, "Monthly revenue")
    payload = api_for(manager).get(f"/api/dashboard/{undated_dashboard.pk}/data").json()
    assert [w["undated"] for w in payload["widgets"]] == [None, None]


def test_the_widget_etag_changes_when_only_the_undated_revenue_was_refreshed(client, undated_dashboard, executive):
    login(client, executive)
    widget = undated_dashboard.widgets.get(title="Monthly revenue")
    url = f"/dashboards/{undated_dashboard.slug}/widgets/{widget.pk}/"
    etag = client.get(url, HTTP_HX_REQUEST="true")["ETag"]

    kpi_view_refresh(view_name="undated_revenue")

    assert client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_the_olist_items_whose_orders_are_not_in_the_orders_file_are_undated_revenue(nw_employees, tmp_path):
    items_alone = [f for f in MAPPINGS["olist_order_items.csv"] if f["canonical_table"] == "canonical_order_lines"]
    for name, fields in (("olist_orders.csv", MAPPINGS["olist_orders.csv"]), ("olist_order_items.csv", items_alone)):
        load(tmp_path, (REAL / name).read_text(encoding="utf-8"), fields, name)

    kpi_views_refresh_all(full=True)

    dated = {r["order_id"] for r in read_rows("olist_orders.csv")}
    waiting = [i for i in read_rows("olist_order_items.csv") if i["order_id"] not in dated]
    undated = "SELECT (revenue::numeric(14, 2), order_count, line_count)::text FROM undated_revenue"
    total = sum(Decimal(i["price"]) for i in waiting)
    assert scalar(undated) == f"({total},{len({i['order_id'] for i in waiting})},{len(waiting)})"
    assert (total, len(waiting)) == (Decimal("109624.38"), 964)
    assert scalar("SELECT sum(revenue) FROM monthly_revenue_all_reps") == Decimal("113783.19") - total
