"""Markup in chart data is inert in the tooltips too: hovering a mark shows it as text, nothing runs.

Vega-embed's tooltip handler (vega-tooltip) builds the tooltip with innerHTML after escaping every title,
key and value; these tests hover a real mark in a real browser, on a Quick Viz chart (hostile column name
and categories from an uploaded file) and on a dashboard widget (hostile categories from a KPI view).
"""

from __future__ import annotations

import csv

import pytest

from dashboards.kpi.registry import KpiView
from dashboards.services.dashboards import dashboard_create
from dashboards.services.widgets import widget_create, widget_spec_build
from tests.dashboards.kpi_helpers import stand_in_kpi_create, stand_in_kpi_drop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMG = "<img src=x onerror=window.__xss=1>"
SCRIPT = "<script>window.__xss=2</script>"
IMG_VALUE = "<img src=x onerror=window.__xss=3>"
TOOLTIP = "#vg-tooltip-element"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def hover_each_mark_until_the_tooltip_shows(page, marks: str, wanted: str) -> str:
    """Hover the marks one by one until the tooltip holds `wanted`; returns the tooltip's text."""
    page.wait_for_function("sel => document.querySelectorAll(sel).length > 0", arg=marks, timeout=20_000)
    seen = []
    for mark in page.locator(marks).all():
        mark.hover(force=True)
        page.wait_for_selector(f"{TOOLTIP}.visible", timeout=5_000)
        text = page.locator(TOOLTIP).inner_text()
        seen.append(text)
        if wanted in text:
            return text
    raise AssertionError(f"no tooltip showed {wanted!r}: {seen}")


def assert_inert(page) -> None:
    tooltip = page.locator(TOOLTIP)
    assert tooltip.locator("img, script").count() == 0, tooltip.inner_html()
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert page.js_errors == []


def test_a_quick_viz_tooltip_shows_a_hostile_column_name_and_categories_as_text(
    page, live_server, login, executive, tmp_path
):
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", IMG, "amount"])
        for i in range(30):
            writer.writerow([i, (SCRIPT, IMG_VALUE, "Plain")[i % 3], 10 + i])
    login(executive)
    page.goto(f"{live_server.url}/uploads/")
    page.set_input_files("#id_file", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/uploads/*/")

    text = hover_each_mark_until_the_tooltip_shows(page, ".vega-chart svg .mark-rect path", SCRIPT)
    assert IMG in text  # the column name, as the key of the category's row
    assert_inert(page)
    text = hover_each_mark_until_the_tooltip_shows(page, ".vega-chart svg .mark-rect path", IMG_VALUE)
    assert_inert(page)


@pytest.fixture
def hostile_kpi(monkeypatch):
    view = KpiView(
        name="test_tooltip_kpi",
        description="Revenue per category with markup in the categories (test stand-in).",
        columns={"category": "text", "revenue": "money"},
        depends_on=("canonical_products",),
    )
    yield stand_in_kpi_create(monkeypatch, view, [(SCRIPT, 100), (IMG_VALUE, 200), ("Plain", 50)])
    stand_in_kpi_drop(view)


def test_a_widget_tooltip_shows_hostile_categories_as_text(page, live_server, login, executive, hostile_kpi):
    dashboard = dashboard_create(title="Categories", owner=executive)
    widget_create(
        dashboard=dashboard,
        title="Revenue by category",
        chart_type="bar",
        view_name=hostile_kpi.name,
        vega_spec=widget_spec_build(chart_type="bar", view_name=hostile_kpi.name, x="category", y="revenue"),
    )
    login(executive)
    page.goto(f"{live_server.url}/dashboards/{dashboard.slug}/")
    page.wait_for_selector("[data-rendered='1']", state="attached", timeout=20_000)

    hover_each_mark_until_the_tooltip_shows(page, ".chart svg .mark-rect path", SCRIPT)
    assert_inert(page)
    hover_each_mark_until_the_tooltip_shows(page, ".chart svg .mark-rect path", IMG_VALUE)
    assert_inert(page)
