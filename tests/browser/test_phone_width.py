"""Issue 23 item 8: on a 390 px phone no main page is wider than the screen, for every role; tables scroll
inside their own box; the header folds into a Menu button that opens the links.

With SCREENSHOT_DIR set, the executive's pages are saved there (docs/screenshots/ holds the before and after)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboards.kpi.registry import KPI_VIEWS
from mappings.models import DataSource
from tests.browser.helpers import sign_in
from tests.browser.test_new_user import screenshot
from tests.dashboards.test_demo import seed_and_refresh, truncate_kpi_tables

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# Every table's nearest box that clips it: a table wider than the screen must scroll inside one.
TABLES_OUTSIDE_A_SCROLL_BOX = """
() => [...document.querySelectorAll("main table")].filter((table) => {
  if (table.getBoundingClientRect().right <= window.innerWidth) return false;
  for (let box = table.parentElement; box && box !== document.body; box = box.parentElement) {
    const overflow = getComputedStyle(box).overflowX;
    if ((overflow === "auto" || overflow === "scroll") && box.getBoundingClientRect().right <= window.innerWidth) {
      return false;
    }
  }
  return true;
}).map((table) => table.closest("[id]") ? table.closest("[id]").id : table.className || "table")
"""


@pytest.fixture
def northwind_demo():
    seed_and_refresh()
    yield
    truncate_kpi_tables(KPI_VIEWS)


def _main_pages(live_server) -> dict[str, str]:
    upload = DataSource.objects.order_by("pk").first()
    return {
        "home": "/",
        "dashboard": "/dashboards/sales-overview/",
        "uploads": reverse("mappings:uploads"),
        "review": reverse("mappings:review", args=[upload.pk]),
        "questions": reverse("dashboards:question_builder"),
        "kpi-status": reverse("dashboards:kpi_status"),
    }


def _phone_login(browser, live_server, username):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, username)
    return context, page, errors


@pytest.mark.parametrize("username", ["fuller", "buchanan", "davolio", "admin"])
def test_no_main_page_is_wider_than_a_390_px_phone_for_any_role(browser, live_server, northwind_demo, username):
    context, page, errors = _phone_login(browser, live_server, username)
    try:
        too_wide, unscrolled = {}, {}
        for name, path in _main_pages(live_server).items():
            page.goto(live_server.url + path, wait_until="networkidle")
            if page.locator("[data-chart-json], .vega-chart").count():
                page.wait_for_selector("[data-rendered='1']", state="attached", timeout=20_000)
                page.wait_for_timeout(300)  # the charts' own resize after drawing
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide[name] = width
            if tables := page.evaluate(TABLES_OUTSIDE_A_SCROLL_BOX):
                unscrolled[name] = tables
            if username == "fuller":
                screenshot(page, f"item8-{name}")
        assert too_wide == {}, f"pages wider than {PHONE['width']} px: {too_wide}"
        assert unscrolled == {}, f"tables clipped instead of scrolling: {unscrolled}"
        assert errors == []
    finally:
        context.close()


def test_on_a_phone_the_header_is_a_menu_button_that_opens_the_links(browser, live_server, northwind_demo):
    context, page, errors = _phone_login(browser, live_server, "fuller")
    try:
        page.goto(f"{live_server.url}/dashboards/")
        nav = page.get_by_role("navigation", name="Main")
        menu = nav.locator("summary", has_text="Menu")
        assert menu.is_visible()
        assert not nav.get_by_role("link", name="Uploads").is_visible()  # folded away
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        header_height = page.locator(".site-header").bounding_box()["height"]
        assert header_height < 100, header_height  # one line: brand and the button

        menu.click()
        screenshot(page, "item8-menu-open")
        for link in ("Uploads", "Dashboards", "KPI status", "API docs"):
            assert nav.get_by_role("link", name=link).is_visible(), link
        assert page.get_by_role("button", name="Log out fuller").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        nav.get_by_role("link", name="Uploads").click()
        page.wait_for_url(f"{live_server.url}/uploads/")
        assert not nav.get_by_role("link", name="Mappings").is_visible()  # closed again on the next page
        assert errors == []
    finally:
        context.close()


def test_on_a_wide_screen_the_links_show_without_a_menu_button(browser, live_server, northwind_demo):
    context, page, errors = _phone_login(browser, live_server, "fuller")
    try:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{live_server.url}/dashboards/")
        nav = page.get_by_role("navigation", name="Main")
        assert not nav.locator("summary", has_text="Menu").is_visible()
        assert nav.get_by_role("link", name="Uploads").is_visible()
        assert errors == []
    finally:
        context.close()
