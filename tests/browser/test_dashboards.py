"""As a new user would: log in as a demo user, open Sales overview, see charts drawn and their revenue."""

from __future__ import annotations

import pytest

from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Dashboard
from tests.browser.helpers import sign_in
from tests.dashboards.test_demo import seed_and_refresh, truncate_kpi_tables

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARKS = ".chart svg .marks path, .chart svg .mark-rect path, .chart svg .mark-area path, .chart svg .mark-symbol path"


@pytest.fixture
def northwind_demo():
    seed_and_refresh()
    yield
    truncate_kpi_tables(KPI_VIEWS)


def open_sales_overview(browser, live_server, username):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, username)
    page.goto(f"{live_server.url}/dashboards/")
    page.get_by_role("link", name="Sales overview").click()
    page.wait_for_url(f"{live_server.url}/dashboards/sales-overview/")
    return context, page, errors


# The demo's orders are in USD (demo/mappings/05-orders.json), and the browser writes English (en-US).
@pytest.mark.parametrize(
    "username, revenue", [("buchanan", "$344,581.71"), ("davolio", "$192,107.60"), ("fuller", "$1,265,793.04")]
)
def test_demo_user_sees_sales_overview_drawn_with_their_revenue(
    browser, live_server, northwind_demo, username, revenue
):
    context, page, errors = open_sales_overview(browser, live_server, username)
    try:
        widget = Dashboard.objects.get(slug="sales-overview").widgets.get(title="Revenue")
        number = page.locator(f"#widget-{widget.pk} [data-testid=kpi-number]")
        number.wait_for()
        assert number.inner_text() == revenue
        page.wait_for_selector("[data-rendered='1']")
        page.wait_for_function("sel => document.querySelectorAll(sel).length > 5", arg=MARKS, timeout=15000)
        assert page.locator("[data-rendered='1']").count() >= 3  # area, top customers, categories, fulfillment
        assert errors == []
    finally:
        context.close()


def test_the_page_opened_again_comes_with_its_widgets_drawn(browser, live_server, northwind_demo):
    # The partials drawn on the first visit are kept for this scope: the second visit carries them in the page, draws
    # their charts at once and asks for no widget.
    context, page, errors = open_sales_overview(browser, live_server, "buchanan")
    try:
        page.wait_for_function("sel => document.querySelectorAll(sel).length > 5", arg=MARKS, timeout=15000)
        widgets = page.locator("[data-testid=widget]").count()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url) if "/widgets/" in request.url else None)
        page.reload()
        assert page.locator("[data-testid=widget][data-inline='1']").count() == widgets
        revenue = Dashboard.objects.get(slug="sales-overview").widgets.get(title="Revenue")
        assert page.locator(f"#widget-{revenue.pk} [data-testid=kpi-number]").inner_text() == "$344,581.71"
        page.wait_for_function("sel => document.querySelectorAll(sel).length > 5", arg=MARKS, timeout=15000)
        assert page.locator("[data-rendered='1']").count() >= 3
        assert asked == [] and errors == []
    finally:
        context.close()


def test_csv_and_png_exports_download(browser, live_server, northwind_demo):
    context, page, errors = open_sales_overview(browser, live_server, "buchanan")
    try:
        widget = Dashboard.objects.get(slug="sales-overview").widgets.get(title="Monthly revenue")
        page.wait_for_selector(f"#widget-{widget.pk} [data-rendered='1']")
        with page.expect_download() as download:
            page.locator(f"#widget-{widget.pk} [data-export=png]").click()
        assert download.value.suggested_filename == "monthly-revenue.png"
        with page.expect_download() as download:
            page.locator(f"#widget-{widget.pk} [data-export=svg]").click()
        assert download.value.suggested_filename == "monthly-revenue.svg"
        assert errors == []
    finally:
        context.close()
