from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARKS = ".vega-chart svg .mark-line path, .vega-chart svg .mark-rect path, .vega-chart svg .mark-symbol path"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def test_analyst_uploads_a_file_sees_profile_and_charts_then_reviews_the_mapping(page, live_server, login, executive):
    from tests.mappings.conftest import NORTHWIND

    login(executive)
    page.goto(f"{live_server.url}/uploads/")
    page.set_input_files("#id_file", str(NORTHWIND / "orders.csv"))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/uploads/*/")

    profile = page.locator("[data-testid=profile]")
    assert profile.get_by_role("rowheader", name="orderDate").is_visible()
    assert "sampled preview" in page.locator("#qv-heading").inner_text()
    page.wait_for_function("sel => document.querySelectorAll(sel).length > 5", arg=MARKS, timeout=15000)
    assert page.locator(".vega-chart svg").count() >= 2

    page.get_by_test_id("promote").click()
    page.wait_for_url(f"{live_server.url}/uploads/*/review/")
    row = page.locator("tr[data-source-col=orderDate]")
    assert row.locator("select").first.input_value() == "canonical_orders.order_date"
    assert "order date" in row.inner_text()
    # The live preview arrives by HTMX on load: rows as they would load, without a page reload.
    page.wait_for_selector("[data-testid=preview-table]", timeout=15000)
    assert page.locator("[data-testid=preview-table] tbody tr").count() == 20
    assert page.js_errors == []
