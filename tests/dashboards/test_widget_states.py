"""What a widget says about its data beyond the rows: all-time views under a date range, and views that are
empty for everyone (which upload would fill them) as opposed to empty for the caller's scope."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from dashboards.models import KpiViewState
from dashboards.services.dashboards import dashboard_share
from dashboards.services.widgets import widget_create
from tests.dashboards.test_api import api_for
from tests.factories import PASSWORD


def company_widget(dashboard, title="Products by category"):
    """A table widget on the stand-in view without date (and without scope) column: test_company_kpi."""
    return widget_create(
        dashboard=dashboard,
        title=title,
        chart_type="table",
        view_name="test_company_kpi",
        vega_spec={"columns": ["category", "revenue"]},
    )


def partial(client, user, dashboard, widget, query=""):
    assert client.login(username=user.username, password=PASSWORD)
    url = f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/{query}"
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def view_refreshed_with(rows: int, view_name="test_company_kpi") -> None:
    KpiViewState.objects.update_or_create(
        view_name=view_name, defaults={"last_success_at": timezone.now(), "rows": rows, "last_mode": "full"}
    )


def test_a_widget_on_a_view_without_dates_says_the_date_range_does_not_apply(client, sales_dashboard, executive):
    widget = company_widget(sales_dashboard)
    body = partial(client, executive, sales_dashboard, widget, "?from=2024-01&to=2024-01")
    assert 'data-testid="all-time"' in body
    assert "the date range does not apply" in body
    assert "Beverages" in body  # all time: the rows are there, not filtered away


def test_a_widget_on_a_view_without_dates_says_all_time_without_a_date_range(client, sales_dashboard, executive):
    body = partial(client, executive, sales_dashboard, company_widget(sales_dashboard))
    assert 'data-testid="all-time"' in body
    assert "does not apply" not in body


def test_a_widget_on_a_dated_view_does_not_say_all_time(client, sales_dashboard, executive):
    widget = sales_dashboard.widgets.get(title="Monthly revenue")
    body = partial(client, executive, sales_dashboard, widget, "?from=2024-01&to=2024-01")
    assert 'data-testid="all-time"' not in body


def test_the_api_says_which_widgets_are_all_time(sales_dashboard, executive):
    company_widget(sales_dashboard)
    payload = api_for(executive).get(f"/api/dashboard/{sales_dashboard.pk}/data?from=2024-01").json()
    assert {w["title"]: w["all_time"] for w in payload["widgets"]} == {
        "Revenue": False,
        "Monthly revenue": False,
        "By rep": False,
        "Products by category": True,
    }


def test_an_empty_view_says_which_upload_fills_it_with_a_link_for_who_may_upload(client, sales_dashboard, executive):
    widget = company_widget(sales_dashboard)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM test_company_kpi")
    view_refreshed_with(rows=0)
    body = partial(client, executive, sales_dashboard, widget)
    assert 'data-testid="needs-data"' in body
    assert "Upload products to see Products by category." in body
    assert 'href="/uploads/"' in body


def test_an_empty_view_tells_a_user_who_may_not_upload_whom_to_ask(client, sales_dashboard, manager):
    view_refreshed_with(rows=0, view_name="test_sales_kpi")
    monthly = sales_dashboard.widgets.get(title="Monthly revenue")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM test_sales_kpi")
    body = partial(client, manager, sales_dashboard, monthly)
    assert "Upload orders to see Monthly revenue." in body
    assert 'href="/uploads/"' not in body
    assert "Ask an analyst or an executive to upload it." in body


def test_a_view_with_rows_outside_the_callers_scope_is_not_called_empty(client, sales_dashboard, rep):
    view_refreshed_with(rows=2)
    widget = company_widget(sales_dashboard)
    dashboard_share(dashboard=sales_dashboard, level="view", username=rep.username)
    body = partial(client, rep, sales_dashboard, widget)
    assert 'data-testid="needs-data"' not in body
    assert "No rows you may see." in body


def test_an_empty_views_grand_total_says_which_upload_fills_it_too(client, sales_dashboard, executive):
    revenue = sales_dashboard.widgets.get(title="Revenue")  # a number: sum(revenue) over no rows is one NULL row
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM test_sales_kpi")
    view_refreshed_with(rows=0, view_name="test_sales_kpi")
    body = partial(client, executive, sales_dashboard, revenue)
    assert "Upload orders to see Revenue." in body
    assert 'data-testid="kpi-number"' not in body


def test_a_table_widget_heads_its_columns_in_words_and_keeps_the_column_name_as_a_tooltip(
    client, sales_dashboard, executive
):
    widget = sales_dashboard.widgets.get(title="By rep")
    body = partial(client, executive, sales_dashboard, widget)
    assert '<th scope="col" title="sales_rep_id">Sales rep id</th>' in body
    assert '<th scope="col" title="revenue">Revenue</th>' in body


def test_a_widget_says_a_value_is_unknown_only_when_everything_it_shows_is_unknown():
    from datetime import date

    from dashboards.kpi.registry import KPI_VIEWS
    from dashboards.presenters import unknown_values_message

    gross_margin, month = KPI_VIEWS["gross_margin"], date(2024, 1, 1)
    unknown = "Cost of goods unknown: upload products with a unit cost."
    assert unknown_values_message(gross_margin, [{"month": month, "gross_margin": None}]) == unknown
    assert unknown_values_message(gross_margin, [{"gross_margin": None}, {"gross_margin": 12.5}]) == ""
    assert unknown_values_message(gross_margin, [{"revenue": 40, "gross_margin": None}]) == ""  # revenue is known
    assert unknown_values_message(KPI_VIEWS["monthly_revenue"], [{"revenue": None}]) == ""
