"""The review page's grain select in Chromium, with the keyboard only: found by its label, chosen by typing, the
preview follows, Save keeps it in the new version (issue 19, mapping option `grain`)."""

from __future__ import annotations

import pytest

from mappings.services.mapping import mapping_save
from tests.mappings.helpers import field, upload_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Orders that also name one invoice each: invoices come after orders, so Automatic makes the rows invoices.
TEXT = "order,date,invoice\n" + "".join(f"SO-{i},2024-01-{i:02d},INV-{i}\n" for i in range(1, 11))
FIELDS = [
    field("order", "canonical_orders", "external_id"),
    field("date", "canonical_orders", "order_date"),
    field("invoice", "canonical_invoices", "external_id"),
    field("order", "canonical_invoices", "order_id"),
    field("date", "canonical_invoices", "invoice_date"),
    field(None, "canonical_invoices", "amount", [{"op": "constant", "value": "10.00"}]),
]


@pytest.fixture
def upload(executive, tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    source = upload_text(tmp_path, TEXT, name="orders-invoiced.csv", user=executive)
    mapping_save(source=source, fields=FIELDS, user=executive)
    return source


def test_the_grain_is_chosen_with_the_keyboard_previewed_and_saved(page, live_server, login, executive, upload):
    login(executive)
    page.goto(f"{live_server.url}/uploads/{upload.pk}/review/")
    page.wait_for_selector("[data-testid=grain-effective]", timeout=15000)
    assert "automatically" in page.get_by_test_id("grain-effective").inner_text()

    grain = page.get_by_label("Each row of the file is one row of")
    grain.focus()
    page.keyboard.type("Orders (")  # a select's type-ahead: the first option starting so
    assert grain.input_value() == "canonical_orders"
    page.wait_for_function(
        "() => document.querySelector('[data-testid=grain-effective]').textContent.includes('as chosen')",
        timeout=15000,
    )
    assert "canonical_orders" in page.get_by_test_id("grain-effective").inner_text()
    assert "option grain" in page.get_by_test_id("diff").inner_text()

    page.get_by_test_id("save").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Saved as version v2.").wait_for()

    assert upload.mappings.order_by("-version").first().options["grain"] == "canonical_orders"
    assert page.get_by_label("Each row of the file is one row of").input_value() == "canonical_orders"
    assert page.js_errors == []
