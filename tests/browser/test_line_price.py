"""A lines file with no price, on the review page in Chromium: the proposal takes each line's unit price from
its product's price in the catalogue loaded first; the preview says so; executing prices the lines."""

from __future__ import annotations

import re

import pytest

from canonical.models import OrderLine
from config.celery_app import app
from mappings.services.sources import data_source_upload
from tests.browser.test_import_flow import latest_fields, mapped, open_review, wait_for_cell
from tests.mappings.test_line_price import PRICE, PRODUCT_KEYS, catalogue, load_products, sales_lines

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _eager_executions(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_the_review_page_prices_priceless_lines_from_their_products(page, live_server, login, executive, tmp_path):
    load_products(tmp_path, catalogue(PRODUCT_KEYS))
    path = tmp_path / "sales_2015.csv"
    path.write_text(sales_lines(PRODUCT_KEYS))
    with open(path, "rb") as fh:
        source = data_source_upload(file=fh, name=path.name, user=executive).source
    login(executive)

    open_review(page, live_server, source)

    computed = page.locator("tr[data-source-col='']", has=page.locator("[data-op=product_price]"))
    assert computed.locator("select[name^=target-]").input_value() == "canonical_order_lines.unit_price"
    assert "priced in the catalogue" in computed.inner_text()
    wait_for_cell(page, 2, "unit_price", "the product's price, at load")
    page.get_by_test_id("execute").click()
    page.wait_for_url(re.compile(r".*/uploads/jobs/[0-9a-f-]+/$"))
    assert page.get_by_test_id("job-status").inner_text() == "succeeded"
    assert mapped(latest_fields(source))["canonical_order_lines.unit_price"]["transform"] == PRICE
    assert OrderLine.objects.count() == 120
    assert not OrderLine.objects.filter(unit_price__isnull=True).exists()
    assert page.js_errors == []
