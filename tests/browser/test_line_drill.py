"""A click on a point of a line chart drills by that point's x value (bars already do): the rows behind that month,
the caller's only, and a link that filters the dashboard by it. A click on the line between two points drills by
the point nearest along x."""

from __future__ import annotations

import re
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta

from accounts.models import User
from accounts.selectors import user_row_scope
from canonical.models import Order
from dashboards.kpi.question import question_build
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.services.dashboards import dashboard_create
from dashboards.services.questions import question_save
from tests.browser.helpers import sign_in
from tests.dashboards.test_demo import seed_and_refresh, truncate_kpi_tables

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BY_MONTH = {
    "source": "dataset_orders",
    "dimensions": [{"column": "order_date", "bucket": "month"}],
    "measures": [{"column": "revenue", "agg": "sum"}],
}


@pytest.fixture
def northwind_demo():
    seed_and_refresh()
    yield
    truncate_kpi_tables(KPI_VIEWS)


def orders_in_month(user, month: str) -> int:
    first = date.fromisoformat(month[:10])
    return Order.objects.filter(
        sales_rep_id__in=user_row_scope(user).employee_ids,
        order_date__gte=first,
        order_date__lt=first + relativedelta(months=1),
    ).count()


def as_the_axis_writes_it(month: str) -> str:
    return date.fromisoformat(month).strftime("%b %Y")  # en-US: "Mar 1997"


def drilled_month(page, widget) -> tuple[str, int, str]:
    panel = f"#drill-widget-{widget.pk}"
    page.wait_for_selector(f"{panel} [data-testid=drill-table]", timeout=10_000)
    heading = page.locator(f"{panel} h3").inner_text()
    count = int(page.locator(f"{panel} [data-testid=drill-count]").inner_text())
    link = page.locator(f"{panel} [data-testid=drill-filter-dashboard]").get_attribute("href")
    return heading, count, link


def test_a_click_on_a_point_or_the_line_drills_by_that_month(browser, live_server, northwind_demo):
    buchanan = User.objects.get(username="buchanan")
    dashboard = dashboard_create(title="Team months", owner=buchanan)
    widget = question_save(
        dashboard=dashboard, question=question_build(payload=BY_MONTH), title="Revenue by month", chart_type="line"
    )
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in(page, live_server.url, "buchanan")
        page.goto(f"{live_server.url}{dashboard.get_absolute_url()}")
        page.wait_for_selector(f"#widget-{widget.pk} [data-rendered='1']", timeout=15_000)
        rows = page.evaluate(f"JSON.parse(document.getElementById('widget-data-{widget.pk}').textContent).rows")
        points = page.locator(f"#widget-{widget.pk} .mark-symbol path")
        assert points.count() == len(rows) > 10

        # A point: the month it stands for.
        k = next(i for i in range(len(rows) // 2, len(rows)) if rows[i]["sum_revenue"] is not None)
        month = rows[k]["order_date"][:10]
        points.nth(k).click()
        heading, count, link = drilled_month(page, widget)
        assert heading.endswith(f"Order date = {as_the_axis_writes_it(month)}")
        assert count == orders_in_month(buchanan, month) > 0
        # The rows are written as the preview writes them: "Mar 5, 1997" and "1,234.50", not ISO dates.
        table = page.locator(f"#drill-widget-{widget.pk} [data-testid=drill-table] tbody").inner_text()
        assert re.search(r"\b\d{4}-\d{2}-\d{2}\b", table) is None
        assert as_the_axis_writes_it(month)[:3] in table
        assert f"from={month[:7]}&to={month[:7]}" in link
        page.click(f"#drill-widget-{widget.pk} [data-drill-close]")

        # The line between two points, nearer the earlier one: that one's month.
        j = next(i for i in range(3, len(rows)) if rows[i]["sum_revenue"] is not None and rows[i - 1]["sum_revenue"])
        a, b = points.nth(j - 1).bounding_box(), points.nth(j).bounding_box()
        ax, ay = a["x"] + a["width"] / 2, a["y"] + a["height"] / 2
        bx, by = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
        page.mouse.click(ax + 0.3 * (bx - ax), ay + 0.3 * (by - ay))
        heading, count, _ = drilled_month(page, widget)
        earlier = rows[j - 1]["order_date"][:10]
        assert heading.endswith(f"Order date = {as_the_axis_writes_it(earlier)}")
        assert count == orders_in_month(buchanan, earlier)
        assert errors == []
    finally:
        context.close()
