"""Issue 23 item 7, in Chromium: a German browser on a dark system sees the demo's money in euros as Germans
write them (numbers, tables, axis labels, tooltips) on a dark page with dark charts.

With SCREENSHOT_DIR set, the dashboard is saved there (docs/screenshots/ holds the before and after)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection

from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Dashboard
from tests.browser.helpers import sign_in
from tests.browser.test_new_user import screenshot
from tests.dashboards.test_demo import seed_and_refresh, truncate_kpi_tables

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NBSP = "\xa0"

LUMINANCE = """(css) => {
  const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}"""


@pytest.fixture
def northwind_in_euros():
    seed_and_refresh()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE canonical_orders SET currency = 'EUR'")
    cache.clear()
    yield
    truncate_kpi_tables(KPI_VIEWS)


def _german_dark_dashboard(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 1400}, locale="de-DE", color_scheme="dark")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, "fuller")
    page.goto(f"{live_server.url}/dashboards/sales-overview/")
    page.wait_for_selector("[data-rendered='1']", state="attached")
    page.wait_for_function("document.querySelectorAll(\"[data-rendered='1']\").length >= 4")
    page.wait_for_timeout(300)
    return context, page, errors


def test_a_german_browser_sees_euros_the_german_way_in_numbers_tables_axes_and_tooltips(
    browser, live_server, northwind_in_euros
):
    context, page, errors = _german_dark_dashboard(browser, live_server)
    try:
        screenshot(page, "item7-dashboard-de-dark")
        widgets = {w.title: w.pk for w in Dashboard.objects.get(slug="sales-overview").widgets.all()}
        revenue = page.locator(f"#widget-{widgets['Revenue']} [data-testid=kpi-number]").inner_text()
        assert revenue == f"1.265.793,04{NBSP}€"
        assert page.locator(f"#widget-{widgets['Orders']} [data-testid=kpi-number]").inner_text() == "830"
        rep_table = page.locator(f"#widget-{widgets['Rep performance']} table").inner_text()
        assert f"192.107,60{NBSP}€" in rep_table  # Nancy Davolio's revenue

        monthly = page.locator(f"#widget-{widgets['Monthly revenue']} svg")
        axis_labels = monthly.locator(".role-axis-label text").all_text_contents()
        assert any(label.endswith("€") and "." in label for label in axis_labels), axis_labels  # "100.000 €"

        bars = page.locator(f"#widget-{widgets['Revenue by category']} svg .mark-rect path")
        bars.first.hover()
        tooltip = page.locator("#vg-tooltip-element")
        tooltip.wait_for(state="visible")
        assert "€" in tooltip.inner_text() and "," in tooltip.inner_text(), tooltip.inner_text()
        assert errors == []
    finally:
        context.close()


def test_a_dark_system_gets_a_dark_page_and_dark_charts(browser, live_server, northwind_in_euros):
    context, page, errors = _german_dark_dashboard(browser, live_server)
    try:
        luminance = lambda css: page.evaluate(LUMINANCE, css)  # noqa: E731
        body = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")  # Pico paints :root
        assert luminance(body) < 0.2, body
        label = page.locator(".widget svg .role-axis-label text").first
        assert luminance(label.evaluate("(e) => getComputedStyle(e).fill")) > 0.6  # light text on the dark page
        chart_background = page.locator(".widget svg.marks").first.evaluate("(e) => e.style.backgroundColor")
        assert chart_background == body, chart_background  # the page's own dark, not a white or grey box
        assert errors == []
    finally:
        context.close()


def test_a_light_system_keeps_the_light_page(browser, live_server, northwind_in_euros):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", color_scheme="light")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        body = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert page.evaluate(LUMINANCE, body) > 0.8, body
    finally:
        context.close()


def test_a_german_browser_sees_the_question_preview_written_the_german_way(browser, live_server, northwind_in_euros):
    from tests.browser.test_questions import pick

    context, page, errors = _german_dark_dashboard(browser, live_server)
    try:
        page.goto(f"{live_server.url}/dashboards/questions/")
        assert page.locator("[data-testid=kpi-number]").inner_text() == f"1.265.793,04{NBSP}€"
        pick(page, "dimension-1", "month")  # the table the server sends back through HTMX
        pick(page, "chart-type", "table")
        first = page.locator("[data-testid=preview-table] tbody tr").first.locator("td").all_inner_texts()
        assert first == ["Juli 1996", f"{first[1].removesuffix(NBSP + '€')}{NBSP}€"], first
        assert "," in first[1] and first[1].replace(".", "").split(",")[0].isdigit(), first
        months = page.locator("[data-testid=preview-table] tbody td:first-child").all_inner_texts()
        assert len(months) == 23 and months[-1] == "Mai 1998", months
        assert errors == []
    finally:
        context.close()
