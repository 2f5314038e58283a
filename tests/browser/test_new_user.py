"""What a new user sees, in Chromium: no offer that ends in a bare 403, error pages in the site layout, a
monthly chart that leaves empty years empty, rows without a rep named, an exported chart with its title.

With SCREENSHOT_DIR set, each test saves what it shows there (docs/screenshots/ holds the before and after)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from canonical.models import Customer
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Dashboard
from tests.browser.test_dashboards import open_sales_overview
from tests.dashboards.kpi_helpers import add_order
from tests.dashboards.test_demo import seed_and_refresh, truncate_kpi_tables

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshot(page, name: str, locator=None) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (locator or page).screenshot(path=str(Path(folder) / f"{name}.png"))


@pytest.fixture
def northwind_demo():
    seed_and_refresh()
    yield
    truncate_kpi_tables(KPI_VIEWS)


@pytest.fixture
def northwind_with_stray_rows():
    """The demo with what real exports hold: an order dated twenty years early, and one without a sales rep."""
    from dashboards.services.refresh import kpi_views_refresh_all

    seed_and_refresh()
    customer = Customer.objects.order_by("pk").first()
    from canonical.models import Employee

    davolio = Employee.objects.get(name="Nancy Davolio")
    add_order(customer=customer, rep=davolio, day=date(1976, 3, 4), amount="1500.00")
    add_order(customer=customer, rep=None, day=date(1997, 5, 5), amount="250.00")
    kpi_views_refresh_all(full=True)
    yield
    truncate_kpi_tables(KPI_VIEWS)


@pytest.mark.parametrize("username", ["davolio", "buchanan"])
def test_a_rep_or_manager_is_offered_no_upload_and_a_forbidden_page_says_where_to_go(
    browser, live_server, northwind_demo, username
):
    context, page, errors = open_sales_overview(browser, live_server, username)
    try:
        page.goto(f"{live_server.url}/")
        screenshot(page, f"item3-home-{username}")
        nav = page.get_by_role("navigation", name="Main")
        assert nav.get_by_role("link", name="Uploads").count() == 0
        assert nav.get_by_role("link", name="Mappings").count() == 0
        assert page.get_by_role("link", name="Upload a file").count() == 0
        assert page.get_by_role("link", name="Open dashboards").count() == 1
        page.goto(f"{live_server.url}/uploads/")  # typed or bookmarked: still no dead end
        screenshot(page, f"item3-forbidden-{username}")
        assert page.get_by_role("heading", name="You may not open this page").is_visible()
        assert "Only executives, analysts and admins" in page.inner_text("main")
        assert page.locator("link[href$='app.css']").count() == 1  # the site's styles, not a bare page
        page.locator("main a", has_text="Open dashboards").click()
        page.wait_for_url(f"{live_server.url}/dashboards/")
        page.goto(f"{live_server.url}/dashboards/no-such-dashboard/")
        screenshot(page, f"item3-not-found-{username}")
        assert page.get_by_role("heading", name="This page does not exist").is_visible()
        assert errors == []
    finally:
        context.close()


def test_the_executive_menu_links_the_kpi_status_page_and_the_api_docs(browser, live_server, northwind_demo):
    context, page, errors = open_sales_overview(browser, live_server, "fuller")
    try:
        nav = page.get_by_role("navigation", name="Main")
        nav.get_by_role("link", name="KPI status").click()
        page.wait_for_url(f"{live_server.url}/dashboards/status/")
        assert page.get_by_role("heading", name="KPI views").is_visible()
        assert page.get_by_role("navigation", name="Main").get_by_role("link", name="API docs").count() == 1
        assert errors == []
    finally:
        context.close()


def test_the_monthly_revenue_chart_leaves_empty_years_empty_and_exports_with_its_title(
    browser, live_server, northwind_with_stray_rows
):
    context, page, errors = open_sales_overview(browser, live_server, "fuller")
    try:
        dashboard = Dashboard.objects.get(slug="sales-overview")
        chart = dashboard.widgets.get(title="Monthly revenue")
        selector = f"#widget-{chart.pk}"
        page.wait_for_selector(f"{selector} [data-rendered='1']")
        page.wait_for_selector(f"{selector} .mark-area path")
        screenshot(page, "item6-monthly-revenue", page.locator(selector))
        rep_table = page.locator(f"#widget-{dashboard.widgets.get(title='Rep performance').pk}")
        rep_table.locator("table").wait_for()
        screenshot(page, "item6-rep-performance", rep_table)
        # The area's outline starts again after the gap: two pieces (1976; 1996-1998), not one band across.
        path = page.locator(f"{selector} .mark-area path").first.get_attribute("d")
        assert path.count("M") >= 2, path[:200]
        assert "Unassigned" in rep_table.inner_text()
        with page.expect_download() as download:
            page.locator(f"{selector} [data-export=svg]").click()
        svg = Path(download.value.path()).read_text()
        assert ">Monthly revenue</text>" in svg
        with page.expect_download() as download:
            page.locator(f"{selector} [data-export=png]").click()
        assert download.value.suggested_filename == "monthly-revenue.png"
        assert errors == []
    finally:
        context.close()
