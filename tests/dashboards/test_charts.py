"""What a chart and an export show: gaps in the data stay gaps, counts stay integers, rows without a rep have a
name, an exported image carries the widget's title, an all-time number does not ask for a date range."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from canonical.models import Customer
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Dashboard, Widget
from dashboards.presenters import chart_payload, widget_display
from dashboards.selectors import WidgetData, kpi_rows_for_user
from dashboards.services.demo import demo_widget_query
from dashboards.services.refresh import kpi_views_refresh_all
from dashboards.services.widgets import widget_spec_build
from tests.dashboards.kpi_helpers import add_order
from tests.dashboards.test_demo import seed_and_refresh, truncate_kpi_tables
from tests.factories import Role, persona

pytestmark = pytest.mark.django_db


def area_widget(**spec_changes) -> Widget:
    spec = widget_spec_build(chart_type="area", view_name="monthly_revenue", x="month", y="revenue")
    spec.update(spec_changes)
    return Widget(
        title="Monthly revenue", chart_type="area", data_source={"view_name": "monthly_revenue"}, vega_spec=spec
    )


def test_a_monthly_area_over_empty_years_gets_every_month_with_no_value_where_there_is_none():
    rows = [
        {"month": "1976-03-01", "revenue": 10.0},
        {"month": "1996-07-01", "revenue": 100.0},
        {"month": "1996-07-01", "revenue": 5.5},  # two reps' rows of one month: summed here
        {"month": "1996-08-01", "revenue": 50.0},
    ]
    payload = chart_payload(area_widget(), rows)
    months = [r["month"] for r in payload["rows"]]
    assert months[0] == "1976-03-01" and months[-1] == "1996-08-01"
    assert len(months) == 20 * 12 + 6 and len(set(months)) == len(months)
    values = {r["month"]: r["revenue"] for r in payload["rows"]}
    assert values["1976-03-01"] == 10.0 and values["1996-07-01"] == 105.5 and values["1996-08-01"] == 50.0
    assert values["1985-01-01"] is None  # a gap, not a zero and not a line drawn across
    mark = payload["spec"]["mark"]
    assert mark["type"] == "area" and mark["invalid"] == "break-paths-show-domains" and mark["point"] is True
    assert "aggregate" not in payload["spec"]["encoding"]["y"]  # a sum of nulls would draw 0
    assert payload["title"] == "Monthly revenue"


def test_months_without_gaps_are_drawn_as_before_with_points_only_to_click():
    rows = [{"month": "1996-07-01", "revenue": 1.0}, {"month": "1996-08-01", "revenue": 2.0}]
    payload = chart_payload(area_widget(), rows)
    assert [r["revenue"] for r in payload["rows"]] == [1.0, 2.0]
    assert payload["spec"]["mark"]["point"] == "transparent"  # not drawn; each point a click target for the drill


def test_each_series_of_a_coloured_chart_keeps_its_own_gaps():
    spec = widget_spec_build(
        chart_type="line", view_name="monthly_revenue", x="month", y="revenue", color="sales_rep_id"
    )
    widget = Widget(title="By rep", chart_type="line", data_source={"view_name": "monthly_revenue"}, vega_spec=spec)
    rows = [
        {"month": "2024-01-01", "sales_rep_id": 1, "revenue": 1.0},
        {"month": "2024-03-01", "sales_rep_id": 1, "revenue": 3.0},
        {"month": "2024-02-01", "sales_rep_id": 2, "revenue": 2.0},
    ]
    rows_out = chart_payload(widget, rows)["rows"]
    assert len(rows_out) == 6
    assert {(r["month"], r["sales_rep_id"]): r["revenue"] for r in rows_out}[("2024-02-01", 1)] is None


def test_a_spec_naming_other_fields_is_drawn_from_the_rows_as_they_are():
    widget = area_widget(transform=[{"calculate": "datum.revenue * 2", "as": "double"}])
    rows = [{"month": "1976-03-01", "revenue": 10.0}, {"month": "1996-07-01", "revenue": 100.0}]
    payload = chart_payload(widget, rows)
    assert payload["rows"] == rows
    # As they are, but with its points to click (transparent: drawn as before).
    mark = (
        widget.vega_spec["mark"] if isinstance(widget.vega_spec["mark"], dict) else {"type": widget.vega_spec["mark"]}
    )
    assert payload["spec"] == {**widget.vega_spec, "mark": {**mark, "point": "transparent"}}


def test_an_all_time_receivables_number_does_not_ask_for_a_date_range():
    widget = Widget(
        title="Open receivables",
        chart_type="number",
        data_source={"view_name": "ar_aging"},
        vega_spec=widget_spec_build(chart_type="number", view_name="ar_aging", y="total_open"),
    )
    display = widget_display(WidgetData(widget=widget, rows=[{"total_open": 1234.5}], freshness={"rows": 3}))
    assert display.number == "1,234.50" and display.all_time
    assert "date range" not in display.change and display.change == ""
    dated = Widget(
        title="Revenue",
        chart_type="number",
        data_source={"view_name": "monthly_revenue"},
        vega_spec=area_widget().vega_spec,
    )
    dated.vega_spec = widget_spec_build(chart_type="number", view_name="monthly_revenue", y="revenue")
    display = widget_display(WidgetData(widget=dated, rows=[{"revenue": 1.0}], freshness={"rows": 3}))
    assert display.change == "choose a date range to compare with the previous period"


def test_rows_without_a_rep_are_named_unassigned(northwind):
    add_order(customer=Customer.objects.order_by("pk").first(), rep=None, day=date(1997, 5, 5), amount="12.00")
    kpi_views_refresh_all(full=True)
    executive = persona("fuller", Role.EXECUTIVE, northwind["2"])
    options = demo_widget_query("sales-overview", "Rep performance")
    rows = kpi_rows_for_user(user=executive, view_name="sales_rep_performance", options=options)
    unassigned = [r for r in rows if r["rep_name"] == "Unassigned"]
    assert unassigned == [{"rep_name": "Unassigned", "revenue": 12.0, "order_count": 1, "customer_count": 1}]
    assert "" not in {r["rep_name"] for r in rows}


@pytest.mark.django_db(transaction=True)
def test_counts_export_as_integers_and_demo_figures_are_unchanged(client):
    seed_and_refresh()
    try:
        exports_of_the_demo(client)
    finally:
        truncate_kpi_tables(KPI_VIEWS)


def exports_of_the_demo(client):
    dashboard = Dashboard.objects.get(slug="sales-overview")
    assert client.login(username="fuller", password=demo_password())
    exported = {}
    for title in ("Orders", "Revenue", "Rep performance"):
        widget = dashboard.widgets.get(title=title)
        body = client.get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/export.csv").content.decode()
        exported[title] = list(csv.DictReader(io.StringIO(body)))
    assert exported["Orders"] == [{"order_count": "830"}]
    assert exported["Revenue"] == [{"revenue": "1265793.04"}]
    davolio = next(r for r in exported["Rep performance"] if r["rep_name"] == "Nancy Davolio")
    assert davolio == {"rep_name": "Nancy Davolio", "revenue": "192107.6", "order_count": "123", "customer_count": "65"}
    assert client.login(username="buchanan", password=demo_password())
    widget = dashboard.widgets.get(title="Revenue")
    body = client.get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/export.csv").content.decode()
    assert body.splitlines()[1] == "344581.71"


def demo_password() -> str:
    from dashboards.management.commands.seed_demo import DEMO_PASSWORD

    return DEMO_PASSWORD
