"""A workbook with several sheets: the user picks the sheet; a big one is converted while the page waits."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUPERSTORE = Path(__file__).resolve().parents[1] / "data" / "real" / "superstore_orders.xls"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def test_analyst_uploads_a_workbook_and_picks_another_sheet(page, live_server, login, executive):
    login(executive)
    page.goto(f"{live_server.url}/uploads/")
    page.set_input_files("#id_file", str(SUPERSTORE))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/uploads/*/")

    assert page.get_by_test_id("current-sheet").inner_text() == "Orders"
    profile = page.locator("[data-testid=profile]")
    assert profile.get_by_role("rowheader", name="Order Date").is_visible()
    picker = page.get_by_test_id("sheet-picker")
    assert picker.locator("option").all_inner_texts() == [
        "Orders (10195 rows)",
        "People (5 rows)",
        "Returns (801 rows)",
    ]

    picker.select_option("Returns")
    page.get_by_test_id("reading-form").get_by_role("button", name="Read again").click()
    page.wait_for_load_state()

    assert page.get_by_test_id("current-sheet").inner_text() == "Returns"
    assert profile.get_by_role("rowheader", name="Returned").is_visible()
    assert profile.get_by_role("rowheader", name="Order Date").count() == 0
    assert "800 rows" in page.locator("main p").first.inner_text()

    page.get_by_test_id("promote").click()
    page.wait_for_url(f"{live_server.url}/uploads/*/review/")
    assert page.locator("tr[data-source-col='Order ID']").count() == 1
    assert page.get_by_test_id("current-sheet").inner_text() == "Returns"
    assert page.js_errors == []


def test_a_big_workbook_shows_its_progress_then_its_profile_without_a_reload(
    page, live_server, login, executive, settings
):
    from mappings.models import DataSource
    from mappings.services.convert import data_source_convert

    settings.UPLOAD_CONVERT_SYNC_BYTES = 1024 * 1024
    login(executive)
    page.goto(f"{live_server.url}/uploads/")
    page.set_input_files("#id_file", str(SUPERSTORE))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/uploads/*/")
    assert page.get_by_test_id("converting").is_visible()

    data_source_convert(source=DataSource.objects.get())  # the worker's part

    page.locator("[data-testid=profile]").wait_for(timeout=15000)
    assert page.get_by_test_id("converting").count() == 0
    assert page.locator("[data-testid=profile]").get_by_role("rowheader", name="Order Date").is_visible()
    assert page.js_errors == []
