"""A slow preview in the question builder shows its progress ("Running… n s") with a Cancel that stops its query on
the server; a preview past the limit says to narrow the question or keep it ready. Slow for real: a distinct count
over millions of rows of a test-only KPI table (tests/dashboards/big_kpi.py)."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from tests.browser.helpers import sign_in
from tests.dashboards.big_kpi import big_kpi_create, big_kpi_drop
from tests.factories import PASSWORD, Role, persona

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

START = (
    "/dashboards/questions/?source=test_big_orders&shown_source=test_big_orders&measure_column=region&measure_agg=count"
)


@pytest.fixture
def big(nw_employees):
    big_kpi_create([e.pk for e in nw_employees.values()], 3_000_000)
    yield nw_employees
    big_kpi_drop()


def running_reads(user) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
            [f"/* ll-read u{user.pk} %"],
        )
        return cursor.fetchone()[0]


def test_a_slow_preview_shows_its_progress_and_cancel_stops_its_query(page, live_server, big, settings):
    settings.QUESTION_PREVIEW_LIMIT_MS = 120_000
    fuller = persona("fuller", Role.EXECUTIVE, big["2"])
    sign_in(page, live_server.url, "fuller", PASSWORD)
    page.goto(live_server.url + START, timeout=60_000)
    assert page.locator("[data-testid=kpi-number]").inner_text() == "3,000,000"

    # Counting the distinct regions of three million rows takes seconds: the page says it is running, and counts.
    page.select_option("[data-testid=measure-agg]", "count_distinct")
    page.wait_for_selector("[data-testid=preview-progress]", state="visible", timeout=10_000)
    assert page.locator("[data-testid=preview-progress]").inner_text().startswith("Running… 1 s")
    assert running_reads(fuller) == 1
    clicked = time.monotonic()
    page.click("[data-testid=preview-cancel]")
    page.wait_for_selector("[data-testid=preview-stopped][data-reason=cancelled]", timeout=10_000)
    assert time.monotonic() - clicked < 3  # the query stopped, not finished
    assert running_reads(fuller) == 0
    assert "Preview cancelled" in page.locator("[data-testid=preview-stopped]").inner_text()

    # Past the limit, the preview stops by itself and says what to do; the question can still be saved. The limit is
    # far below the query's time on any machine (a quiet one counts three million rows by day in under 1 s).
    settings.QUESTION_PREVIEW_LIMIT_MS = 50
    page.select_option("[data-testid=dimension-1]", "day")
    page.wait_for_selector("[data-testid=preview-stopped][data-reason=timeout]", timeout=20_000)
    message = page.locator("[data-testid=preview-stopped]").inner_text()
    assert "longer than 0.05 s" in message and "keep it ready" in message
    assert page.locator("[data-testid=save-form]").count() == 1
    assert running_reads(fuller) == 0
    assert page.js_errors == []
