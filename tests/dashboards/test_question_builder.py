"""The question builder page: server-rendered, HTMX partial when asked, plain form fallback, save as widget."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.test import Client

from dashboards.services.dashboards import dashboard_create, dashboard_share
from dashboards.services.refresh import kpi_views_refresh_all
from tests.factories import Role, persona

pytestmark = pytest.mark.django_db

URL = "/dashboards/questions/"
NBSP = "\xa0"


@pytest.fixture
def built(northwind):
    kpi_views_refresh_all(full=True)
    return {
        "fuller": persona("fuller", Role.EXECUTIVE, northwind["2"]),
        "buchanan": persona("buchanan", Role.MANAGER, northwind["5"]),
        "davolio": persona("davolio", Role.SALES_REP, northwind["1"]),
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def chart_json(html: str) -> dict:
    match = re.search(r'<script id="question-chart" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no chart in the page"
    return json.loads(match.group(1))


def test_builder_opens_with_total_revenue_of_the_callers_rows(built):
    html = client_for(built["buchanan"]).get(URL).content.decode()
    assert 'data-testid="kpi-number">344,581.71<' in html
    assert 'data-testid="row-count">1<' in html


def test_revenue_by_month_as_bars_previews_a_bar_chart_of_team_months(built):
    query = {
        "source": "monthly_revenue",
        "shown_source": "monthly_revenue",
        "dimension_1": "month",
        "measure_column": "revenue",
        "measure_agg": "sum",
        "chart_type": "bar",
    }
    response = client_for(built["davolio"]).get(URL, query, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the partial only
    chart = chart_json(html)
    assert chart["spec"]["mark"]["type"] == "bar"
    assert chart["spec"]["encoding"]["x"]["field"] == "month"
    assert sum(r["sum_revenue"] for r in chart["rows"]) == pytest.approx(192107.60, abs=0.10)


def test_a_bad_filter_value_is_shown_on_its_field_not_a_500(built):
    query = {
        "source": "monthly_revenue",
        "shown_source": "monthly_revenue",
        "measure_column": "revenue",
        "measure_agg": "sum",
        "filter_column_1": "month",
        "filter_op_1": "=",
        "filter_value_1": "soon",
    }
    response = client_for(built["fuller"]).get(URL, query)
    assert response.status_code == 400
    assert "filter_value_1: " in response.content.decode()
    assert "is a date" in response.content.decode()
    assert client_for(built["fuller"]).get(URL, query, HTTP_HX_REQUEST="true").status_code == 200  # HTMX swaps 2xx


def test_changing_the_source_starts_over_with_its_first_measure(built):
    query = {
        "source": "revenue_by_category",
        "shown_source": "monthly_revenue",
        "dimension_1": "month",
        "measure_column": "order_count",
        "measure_agg": "sum",
        "sort": "-sum_order_count",
    }
    response = client_for(built["fuller"]).get(URL, query)
    assert response.status_code == 200, response.content.decode()[:2000]
    assert 'value="revenue" selected' in response.content.decode()


def test_save_as_widget_puts_the_question_on_a_dashboard_the_user_may_change(built):
    dashboard = dashboard_create(title="Mine", owner=built["fuller"])
    dashboard_share(dashboard=dashboard, level="change", username="buchanan")
    post = {
        "source": "monthly_revenue",
        "shown_source": "monthly_revenue",
        "dimension_1": "month",
        "measure_column": "revenue",
        "measure_agg": "sum",
        "chart_type": "bar",
        "dashboard": dashboard.pk,
        "title": "Revenue by month",
    }
    response = client_for(built["buchanan"]).post(URL, post)
    assert response.status_code == 302
    widget = dashboard.widgets.get()
    assert (widget.title, widget.chart_type) == ("Revenue by month", "bar")
    page = client_for(built["buchanan"]).get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/").content.decode()
    chart = re.search(r'id="widget-data-\d+" type="application/json">(.*?)</script>', page, re.S)
    rows = json.loads(chart.group(1))["rows"]
    assert sum(r["sum_revenue"] for r in rows) == pytest.approx(344581.71, abs=0.10)
    csv_text = client_for(built["davolio"]).get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/export.csv")
    assert csv_text.status_code == 403  # not shared with the rep
    exported = client_for(built["buchanan"]).get(f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/export.csv")
    lines = exported.content.decode().strip().splitlines()
    assert lines[0] == "month,sum_revenue" and len(lines) == len(rows) + 1
    # A dashboard shared for viewing only is not offered, and posting to it is refused.
    theirs = dashboard_create(title="View only", owner=built["fuller"])
    dashboard_share(dashboard=theirs, level="view", username="davolio")
    html = client_for(built["davolio"]).get(URL).content.decode()
    assert "No dashboard you may change" in html
    assert client_for(built["davolio"]).post(URL, {**post, "dashboard": theirs.pk}).status_code == 403
    assert theirs.widgets.count() == 0


def test_outsider_and_anonymous_cannot_open_the_builder(built):
    assert client_for(persona("outsider", None)).get(URL).status_code == 403
    assert client_for(persona("steward", Role.ADMIN)).get(URL).status_code == 403
    response = Client().get(URL)
    assert response.status_code == 302 and "/login/" in response.url


def preview_cells(html: str) -> list[list[str]]:
    table = html.split('data-testid="preview-table">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [re.findall(r"<td>(.*?)</td>", row, re.S) for row in body.split("</tr>") if "<td>" in row]


MONTHS_BY_REP = {
    "source": "monthly_revenue",
    "shown_source": "monthly_revenue",
    "dimension_1": "month",
    "dimension_2": "sales_rep_id",
    "measure_column": "revenue",
    "measure_agg": "sum",
    "sort": "month",
    "chart_type": "table",
}


def test_the_preview_table_writes_months_money_and_ids_as_the_viewer_does(built, settings):
    settings.DEFAULT_CURRENCY = "EUR"  # the fixture's orders name no currency
    cache.clear()
    client = client_for(built["fuller"])
    german = preview_cells(client.get(URL, MONTHS_BY_REP, HTTP_ACCEPT_LANGUAGE="de-DE").content.decode())
    american = preview_cells(client.get(URL, MONTHS_BY_REP, HTTP_ACCEPT_LANGUAGE="en-US").content.decode())
    assert len(german) == len(american) > 1
    (month, rep, money), (us_month, us_rep, us_money) = german[0], american[0]
    assert (month, us_month) == ("Juli 1996", "Jul 1996")  # the first month of the data, as a month
    assert rep == us_rep and rep.isdigit()  # an employee id, not a count: no thousands separator
    assert money.endswith(f"{NBSP}€") and us_money.startswith("€")
    swapped = us_money.removeprefix("€").replace(",", "_").replace(".", ",").replace("_", ".")
    assert money == f"{swapped}{NBSP}€"
    assert all(re.fullmatch(r"[\d.]+,\d\d\xa0€", row[2]) for row in german)


def test_the_preview_number_and_counts_are_written_as_the_viewer_does(built, settings):
    settings.DEFAULT_CURRENCY = "EUR"
    cache.clear()
    client = client_for(built["buchanan"])
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="de-DE").content.decode()
    assert f'data-testid="kpi-number">344.581,71{NBSP}€<' in html
    by_year = {
        "source": "monthly_revenue",
        "shown_source": "monthly_revenue",
        "dimension_1": "month",
        "bucket_1": "year",
        "measure_column": "order_count",
        "measure_agg": "sum",
        "sort": "month",
        "chart_type": "table",
    }
    cells = preview_cells(client.get(URL, by_year, HTTP_ACCEPT_LANGUAGE="de-DE").content.decode())
    assert [row[0] for row in cells] == ["1996", "1997", "1998"]
    assert all(re.fullmatch(r"\d+", row[1]) for row in cells)  # a count: no decimals
