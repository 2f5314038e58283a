"""The review page's "Needs your decision" list in Chromium, with the keyboard only: each point `ingest --auto` would
stop on links to its column's row, and answering it (here, the day/month order) removes it (issue 18)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every date reads both ways round (no value above 12): --auto would stop on 'Order Date'.
TEXT = "Order ID,Order Date,Total\n" + "".join(f"O{i},0{1 + i % 9}/0{1 + i % 6}/2024,{10 + i}.00\n" for i in range(30))


@pytest.fixture
def upload(executive, tmp_path, settings):
    from mappings.services.sources import data_source_upload

    settings.UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "orders.csv"
    path.write_text(TEXT)
    with path.open("rb") as fh:
        return data_source_upload(file=fh, name=path.name, user=executive).source


def test_a_question_leads_to_its_row_and_answering_it_removes_it(page, live_server, login, executive, upload):
    login(executive)
    page.goto(f"{live_server.url}/uploads/{upload.pk}/review/")
    questions = page.get_by_test_id("questions")
    questions.wait_for()
    link = questions.get_by_role("link", name="Order Date")
    assert "either way round" in questions.inner_text()

    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.hash.startsWith('#target-')")
    target = page.evaluate("() => location.hash")
    select = page.locator(target)
    assert select.evaluate("el => el.closest('tr').dataset.sourceCol") == "Order Date"
    # Scrolled to it: the select is on screen (the anchor puts it at the top edge, give or take a subpixel).
    top, bottom = select.evaluate("el => [el.getBoundingClientRect().top, el.getBoundingClientRect().bottom]")
    assert select.is_visible() and top >= -1 and bottom <= page.viewport_size["height"]

    order = page.get_by_label("Day and month")
    order.focus()
    page.keyboard.type("day")  # a select's type-ahead
    assert order.input_value() == "dmy"
    page.get_by_role("button", name="Read the dates this way").press("Enter")
    page.get_by_text("Dates no value could decide are read day first").wait_for()
    remaining = page.get_by_test_id("questions")
    assert remaining.count() == 0 or "Order Date" not in remaining.inner_text()
    assert page.js_errors == []
