"""A widget editor tries to show figures of their own under a KPI title: inline data, a URL, a generator or
named datasets in a raw Vega-Lite spec. The editor refuses each with a form error and saves nothing."""

from __future__ import annotations

import html
import json

import pytest

from dashboards.models import Widget
from tests.dashboards.conftest import sales_dashboard, sales_kpi  # noqa: F401 (fixtures)
from tests.factories import PASSWORD

FAKE_ROWS = [{"month": "2024-01-01", "revenue": 9_999_999}]
ENCODING = {"x": {"field": "month", "type": "temporal"}, "y": {"field": "revenue", "type": "quantitative"}}
HOSTILE_SPECS = {
    "inline values": {"data": {"values": FAKE_ROWS}, "mark": "bar", "encoding": ENCODING},
    "values in a layer": {"layer": [{"data": {"values": FAKE_ROWS}, "mark": "bar", "encoding": ENCODING}]},
    "values in a lookup": {
        "mark": "bar",
        "encoding": ENCODING,
        "transform": [
            {
                "lookup": "month",
                "from": {"data": {"values": FAKE_ROWS}, "key": "month", "fields": ["revenue"]},
            }
        ],
    },
    "named datasets": {"datasets": {"fake": FAKE_ROWS}, "data": {"name": "fake"}, "mark": "bar", "encoding": ENCODING},
    "a generator": {"data": {"sequence": {"start": 0, "stop": 9}}, "mark": "bar", "encoding": ENCODING},
    "a url": {"data": {"url": "https://evil.example/rows.json"}, "mark": "bar", "encoding": ENCODING},
}


def post_raw_spec(client, dashboard, spec: dict):
    return client.post(
        f"/dashboards/{dashboard.slug}/widgets/new/",
        {
            "title": "Monthly revenue (official)",
            "view_name": "test_sales_kpi",
            "chart_type": "vega",
            "use_raw": "on",
            "raw_spec": json.dumps(spec),
            "refresh_interval": "1h",
        },
    )


@pytest.mark.parametrize("name", HOSTILE_SPECS)
def test_widget_editor_refuses_a_spec_that_brings_its_own_data(client, sales_dashboard, executive, name):  # noqa: F811
    assert client.login(username=executive.username, password=PASSWORD)
    before = Widget.objects.count()

    response = post_raw_spec(client, sales_dashboard, HOSTILE_SPECS[name])

    assert response.status_code == 400
    assert any("its data is the widget's KPI view" in e for e in response.context["errors"]), response.context["errors"]
    assert "its data is the widget" in html.unescape(response.content.decode())
    assert Widget.objects.count() == before


def test_the_same_spec_reading_its_kpi_view_is_saved(client, sales_dashboard, executive):  # noqa: F811
    assert client.login(username=executive.username, password=PASSWORD)
    response = post_raw_spec(client, sales_dashboard, {"mark": "bar", "encoding": ENCODING})
    assert response.status_code == 302
    assert sales_dashboard.widgets.filter(title="Monthly revenue (official)").exists()


@pytest.mark.parametrize("width", ["²", "１２", "9" * 40])
def test_widget_editor_width_in_odd_digits_is_a_default_width_not_a_500(client, sales_dashboard, executive, width):  # noqa: F811
    assert client.login(username=executive.username, password=PASSWORD)
    response = client.post(
        f"/dashboards/{sales_dashboard.slug}/widgets/new/",
        {
            "title": "Odd width",
            "view_name": "test_sales_kpi",
            "chart_type": "line",
            "x": "month",
            "y": "revenue",
            "refresh_interval": "1h",
            "width": width,
        },
    )
    assert response.status_code == 302
    assert sales_dashboard.widgets.get(title="Odd width").width == 6  # the default
