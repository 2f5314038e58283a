from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from dashboards.forms import WidgetAdminForm
from dashboards.models.dashboard import parse_interval
from dashboards.services.widgets import widget_spec_build, widget_validate
from tests.factories import PASSWORD

LINE = {"mark": "line", "encoding": {"x": {"field": "month", "type": "temporal"}, "y": {"field": "revenue"}}}


def source(**extra):
    return {"type": "materialized_view", "view_name": "test_sales_kpi", "refresh_interval": "1h", **extra}


def test_a_spec_over_view_columns_is_valid(sales_kpi):
    widget_validate(chart_type="vega", vega_spec=LINE, data_source=source())


def test_view_must_exist_in_the_registry(sales_kpi):
    with pytest.raises(ValidationError, match="'canonical_orders' is not in the KPI registry"):
        widget_validate(chart_type="line", vega_spec=LINE, data_source=source(view_name="canonical_orders"))


def test_encoded_fields_must_be_view_columns(sales_kpi):
    spec = {"mark": "bar", "encoding": {"x": {"field": "customer"}, "tooltip": [{"field": "margin"}]}}
    with pytest.raises(ValidationError, match="customer, margin are not columns"):
        widget_validate(chart_type="vega", vega_spec=spec, data_source=source())


def test_fields_a_transform_defines_are_allowed(sales_kpi):
    spec = {
        "transform": [{"calculate": "datum.revenue / datum.order_count", "as": "avg_order"}],
        "mark": "bar",
        "encoding": {"x": {"field": "month"}, "y": {"field": "avg_order"}},
    }
    widget_validate(chart_type="vega", vega_spec=spec, data_source=source())


def test_grouped_widgets_may_only_encode_grouped_columns(sales_kpi):
    with pytest.raises(ValidationError, match="month are not columns of the rows"):
        widget_validate(
            chart_type="vega",
            vega_spec=LINE,
            data_source=source(filters={"group_by": ["sales_rep_id"], "measures": ["revenue"]}),
        )


@pytest.mark.parametrize("text", ["1 hour", "", "5", "0s", "3s", "h1"])
def test_interval_must_parse(text):
    with pytest.raises(ValidationError):
        parse_interval(text) if text else parse_interval("soon")


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("15m", 900), ("1h", 3600), ("2d", 172800)])
def test_interval_parses(text, seconds):
    assert parse_interval(text).total_seconds() == seconds


def test_bad_interval_is_reported(sales_kpi):
    with pytest.raises(ValidationError, match="does not parse"):
        widget_validate(chart_type="vega", vega_spec=LINE, data_source=source(refresh_interval="hourly"))


def test_spec_may_not_load_data_from_a_url(sales_kpi):
    spec = dict(LINE, data={"url": "http://example.com/x.csv"})
    with pytest.raises(ValidationError, match="may not load data from a URL"):
        widget_validate(chart_type="vega", vega_spec=spec, data_source=source())


def test_simple_mode_builds_a_line_chart_over_months(sales_kpi):
    spec = widget_spec_build(chart_type="line", view_name="test_sales_kpi", x="month", y="revenue")
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"] == {"field": "month", "type": "temporal", "title": "month", "timeUnit": "yearmonth"}


def test_editor_creates_a_widget_from_view_chart_type_and_fields(client, sales_dashboard, executive):
    client.login(username=executive.username, password=PASSWORD)
    response = client.post(
        f"/dashboards/{sales_dashboard.slug}/widgets/new/",
        {
            "title": "Orders",
            "view_name": "test_sales_kpi",
            "chart_type": "bar",
            "x": "month",
            "y": "order_count",
            "refresh_interval": "15m",
            "width": "4",
        },
    )
    assert response.status_code == 302
    created = sales_dashboard.widgets.get(title="Orders")
    assert created.vega_spec["encoding"]["y"]["field"] == "order_count"
    assert created.width == 4 and created.data_source["refresh_interval"] == "15m"


def test_editor_shows_specific_errors(client, sales_dashboard, executive):
    client.login(username=executive.username, password=PASSWORD)
    response = client.post(
        f"/dashboards/{sales_dashboard.slug}/widgets/new/",
        {
            "title": "Bad",
            "view_name": "test_sales_kpi",
            "chart_type": "vega",
            "use_raw": "1",
            "raw_spec": '{"mark": "bar", "encoding": {"x": {"field": "profit"}}}',
            "refresh_interval": "1h",
        },
    )
    assert response.status_code == 400
    assert "profit are not columns" in response.content.decode()


def test_editor_reports_invalid_json(client, sales_dashboard, executive):
    client.login(username=executive.username, password=PASSWORD)
    response = client.post(
        f"/dashboards/{sales_dashboard.slug}/widgets/new/",
        {
            "title": "Bad",
            "view_name": "test_sales_kpi",
            "chart_type": "vega",
            "raw_spec": "{mark: bar}",
            "refresh_interval": "1h",
        },
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()


def test_editor_changes_and_removes_a_widget(client, sales_dashboard, executive):
    client.login(username=executive.username, password=PASSWORD)
    target = sales_dashboard.widgets.get(title="Monthly revenue")
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{target.pk}/edit/"
    assert client.get(url).status_code == 200
    client.post(
        url,
        {
            "title": "Monthly area",
            "view_name": "test_sales_kpi",
            "chart_type": "area",
            "x": "month",
            "y": "revenue",
            "refresh_interval": "1h",
            "width": "12",
        },
    )
    target.refresh_from_db()
    assert target.chart_type == "area" and target.title == "Monthly area"
    client.post(url, {"delete": "1"})
    assert not sales_dashboard.widgets.filter(pk=target.pk).exists()


def test_viewer_cannot_open_the_editor(client, sales_dashboard, rep):
    client.login(username=rep.username, password=PASSWORD)
    assert client.get(f"/dashboards/{sales_dashboard.slug}/widgets/new/").status_code == 403


def test_editor_refuses_query_options_that_are_not_an_object(client, sales_dashboard, executive):
    client.login(username=executive.username, password=PASSWORD)
    response = client.post(
        f"/dashboards/{sales_dashboard.slug}/widgets/new/",
        {
            "title": "Bad",
            "view_name": "test_sales_kpi",
            "chart_type": "line",
            "x": "month",
            "y": "revenue",
            "query_options": '["revenue"]',
            "refresh_interval": "1h",
        },
    )
    assert response.status_code == 400
    assert "query options must be a JSON object" in response.content.decode()
    assert not sales_dashboard.widgets.filter(title="Bad").exists()


def test_admin_widget_form_refuses_a_view_outside_the_registry(sales_dashboard):
    form = WidgetAdminForm(
        data={
            "dashboard": sales_dashboard.pk,
            "title": "Orders table",
            "chart_type": "vega",
            "position": 1,
            "width": 6,
            "height": 1,
            "vega_spec": '{"mark": "line"}',
            "data_source": '{"type": "materialized_view", "view_name": "canonical_orders", "refresh_interval": "1h"}',
        }
    )
    assert not form.is_valid()
    assert "'canonical_orders' is not in the KPI registry" in form.non_field_errors()[0]


def test_admin_widget_form_accepts_a_widget_over_a_kpi_view(sales_dashboard):
    form = WidgetAdminForm(
        data={
            "dashboard": sales_dashboard.pk,
            "title": "Revenue",
            "chart_type": "vega",
            "position": 1,
            "width": 6,
            "height": 1,
            "vega_spec": json.dumps(LINE),
            "data_source": json.dumps(source()),
        }
    )
    assert form.is_valid(), form.errors
