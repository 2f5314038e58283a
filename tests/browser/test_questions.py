"""As a manager would: build "revenue by month, bars" from monthly_revenue in the question builder, see the
preview drawn from the team's rows only, save it on a dashboard and find it there."""

from __future__ import annotations

import re

import pytest

from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Dashboard
from dashboards.services.dashboards import dashboard_share
from tests.browser.helpers import sign_in
from tests.dashboards.test_demo import seed_and_refresh, truncate_kpi_tables

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BARS = ".chart svg .mark-rect path"


@pytest.fixture
def northwind_demo():
    seed_and_refresh()
    yield
    truncate_kpi_tables(KPI_VIEWS)


def pick(page, testid: str, value: str) -> None:
    """Choose a value and wait for the builder the server sends back (HTMX) to show it."""
    with page.expect_response(lambda r: "/dashboards/questions/?" in r.url):
        page.select_option(f"[data-testid={testid}]", value)
    page.wait_for_function(
        "([sel, value]) => { const el = document.querySelector(sel); return el && el.value === value; }",
        arg=[f"[data-testid={testid}]", value],
    )
    page.wait_for_load_state("networkidle")


def table_total(page) -> float:
    cells = page.locator("[data-testid=preview-table] tbody tr td:nth-child(2)").all_inner_texts()
    return round(sum(float(re.sub(r"[^0-9.\-]", "", c)) for c in cells), 2)


def test_manager_builds_revenue_by_month_as_bars_from_team_rows_and_saves_it(browser, live_server, northwind_demo):
    sales = Dashboard.objects.get(slug="sales-overview")
    dashboard_share(dashboard=sales, level="change", username="buchanan")
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in(page, live_server.url, "buchanan")
        page.goto(f"{live_server.url}/dashboards/")
        page.click("[data-testid=ask-question]")
        page.wait_for_url(re.compile(r"/dashboards/questions/"))
        # The builder opens on total revenue: the team's, not the company's.
        assert page.locator("[data-testid=kpi-number]").inner_text() == "$344,581.71"  # the demo is in dollars

        pick(page, "source", "monthly_revenue")
        pick(page, "dimension-1", "month")
        page.wait_for_selector("[data-testid=preview-chart]", state="attached")
        pick(page, "chart-type", "bar")
        page.wait_for_selector("[data-chart-type=bar] [data-rendered='1']")
        page.wait_for_function("sel => document.querySelectorAll(sel).length > 5", arg=BARS, timeout=15000)
        assert page.locator("[data-testid=row-count]").inner_text() == "23"  # Jul 1996 – May 1998
        assert re.search(r"23 rows in [0-9.]+ ms · bar", page.locator("[data-testid=preview-stats]").inner_text())
        assert table_total(page) == pytest.approx(344581.71, abs=0.10)

        # Grouped by rep: only buchanan's team appears.
        pick(page, "dimension-2", "sales_rep_id")
        page.wait_for_function("() => document.querySelectorAll('[data-testid=preview-table] thead th').length === 3")
        reps = set(page.locator("[data-testid=preview-table] tbody tr td:nth-child(2)").all_inner_texts())
        from canonical.models import Employee

        team = {str(e.pk) for e in Employee.objects.filter(external_id__in=["5", "6", "7", "9"])}
        assert reps <= team and len(reps) >= 2
        pick(page, "dimension-2", "")
        page.wait_for_function("() => document.querySelectorAll('[data-testid=preview-table] thead th').length === 2")

        page.fill("[data-testid=save-title]", "Team revenue by month")
        page.select_option("[data-testid=save-dashboard]", str(sales.pk))
        page.click("[data-testid=save]")
        page.wait_for_url(f"{live_server.url}/dashboards/sales-overview/")
        widget = sales.widgets.get(title="Team revenue by month")
        assert widget.chart_type == "bar"
        page.wait_for_selector(f"#widget-{widget.pk} [data-rendered='1']", timeout=15000)
        assert errors == []
    finally:
        context.close()
