"""Drill-down: the rows behind a widget, or behind the bar clicked in it, under the reader's own scope."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection

from dashboards.kpi.question import question_build
from dashboards.models import Widget
from dashboards.services.dashboards import dashboard_create, dashboard_share
from dashboards.services.questions import question_save
from dashboards.services.refresh import kpi_views_refresh_all
from tests.factories import PASSWORD, Role, persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(northwind):
    kpi_views_refresh_all(full=True)
    people = {
        "buchanan": persona("buchanan", Role.MANAGER, northwind["5"]),
        "davolio": persona("davolio", Role.SALES_REP, northwind["1"]),
    }
    dashboard = dashboard_create(title="Drill", owner=people["buchanan"])
    dashboard_share(dashboard=dashboard, level="view", username="davolio")
    question = question_build(
        payload={
            "source": "dataset_orders",
            "dimensions": [{"column": "order_date", "bucket": "month"}],
            "measures": [{"column": "revenue", "agg": "sum"}],
        }
    )
    widget = question_save(dashboard=dashboard, question=question, title="By month", chart_type="bar")
    return {**people, "employees": northwind, "dashboard": dashboard, "widget": widget}


def rows_url(built, query: str = "") -> str:
    return f"/dashboards/{built['dashboard'].slug}/widgets/{built['widget'].pk}/rows/{query}"


def count_orders(rep_ids, month: str | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM dataset_orders WHERE sales_rep_id = ANY(%s) "
            "AND (%s::date IS NULL OR date_trunc('month', order_date)::date = %s::date)",
            [sorted(rep_ids), month, month],
        )
        return cursor.fetchone()[0]


def test_the_rows_behind_a_widget_are_the_readers_own_a_page_at_a_time(client, built):
    assert client.login(username="davolio", password=PASSWORD)
    response = client.get(rows_url(built))
    assert response.status_code == 200
    body = response.content.decode()
    davolio = built["employees"]["1"]
    total = count_orders([davolio.pk])
    assert f'data-testid="drill-count">{total}<' in body
    assert body.count("<tr>") == 51  # the header and 50 rows
    assert "Nancy Davolio" in body and "Andrew Fuller" not in body
    page_two = client.get(rows_url(built, "?page=2"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="drill-previous"' in page_two and "<html" not in page_two


def test_a_clicked_month_lists_its_orders_and_filters_the_dashboard_by_it(client, built):
    assert client.login(username="buchanan", password=PASSWORD)
    team = [built["employees"][e].pk for e in ("5", "6", "7", "9")]
    response = client.get(rows_url(built, "?field=order_date&value=1997-03-01"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-testid="drill-count">{count_orders(team, "1997-03-01")}<' in body
    assert f"/dashboards/{built['dashboard'].slug}/?from=1997-03&amp;to=1997-03" in body


@pytest.mark.parametrize(
    "query, message",
    [
        ("?field=customer_name&value=x", "is not a dimension of this question"),
        ("?field=order_date&value=March", "is a date"),
        ("?field=order_date", "needs its value"),
        ("?page=999", "page"),
    ],
)
def test_a_bad_click_is_a_clear_400_never_a_500(client, built, query, message):
    assert client.login(username="buchanan", password=PASSWORD)
    response = client.get(rows_url(built, query))
    assert response.status_code == 400
    assert message in response.content.decode()


def test_an_outsider_and_a_stranger_to_the_dashboard_get_no_rows(client, built, outsider):
    assert client.get(rows_url(built)).status_code == 302  # anonymous: to the login page
    stranger = persona("leverling", Role.SALES_REP, built["employees"]["3"])
    assert client.login(username=stranger.username, password=PASSWORD)
    assert client.get(rows_url(built)).status_code == 403
    assert client.login(username=outsider.username, password=PASSWORD)
    assert client.get(rows_url(built)).status_code == 403
    assert Widget.objects.count() == 1


def test_a_clicked_month_opens_the_question_with_that_month_as_a_filter(client, built):
    assert client.login(username="buchanan", password=PASSWORD)
    body = client.get(rows_url(built, "?field=order_date&value=1997-03-01")).content.decode()
    link = re.search(r'href="(/dashboards/questions/\?[^"]+)" data-testid="drill-open-question"', body)
    assert link, body
    builder = client.get(html.unescape(link.group(1)))
    assert builder.status_code == 200
    page = builder.content.decode()
    team = [built["employees"][e].pk for e in ("5", "6", "7", "9")]
    assert 'data-testid="row-count">1<' in page  # one month
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT round(sum(revenue), 2) FROM dataset_orders WHERE sales_rep_id = ANY(%s) "
            "AND order_date BETWEEN '1997-03-01' AND '1997-03-31'",
            [team],
        )
        total = cursor.fetchone()[0]
    assert f"{total:,.2f}" in page or f"{total}" in page


def german(amount) -> str:
    """1234.5 as a German reader writes it: 1.234,50."""
    return f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def first_row_cells(body: str) -> list[str]:
    tbody = body.split('data-testid="drill-table"', 1)[1].split("<tbody>", 1)[1]
    first = tbody.split("</tr>", 1)[0]
    return [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", first)]


def test_the_rows_are_written_in_the_viewers_locale_like_the_preview(client, built):
    assert client.login(username="davolio", password=PASSWORD)
    davolio = built["employees"]["1"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT order_id, order_date, revenue, line_count FROM dataset_orders WHERE sales_rep_id = %s "
            "ORDER BY order_date, order_id LIMIT 1",
            [davolio.pk],
        )
        order_id, order_date, revenue, line_count = cursor.fetchone()
    body = client.get(rows_url(built), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    cells = first_row_cells(body)
    assert str(order_id) in cells  # an id as it is, not 10.248
    assert order_date.strftime("%d.%m.%Y") in cells  # not 1996-07-04
    assert order_date.isoformat() not in " ".join(cells)
    assert any(german(revenue) in cell for cell in cells)  # 1.234,50 (with the data's currency)
    assert str(line_count) in cells
    assert '<th scope="col">Order date</th>' in body and '<th scope="col">Sales rep name</th>' in body

    american = first_row_cells(client.get(rows_url(built), HTTP_ACCEPT_LANGUAGE="en-US").content.decode())
    assert order_date.strftime("%b %-d, %Y") in american
    assert any(f"{revenue:,.2f}" in cell for cell in american)


def test_the_clicked_month_is_named_as_the_chart_names_it(client, built):
    assert client.login(username="buchanan", password=PASSWORD)
    english = client.get(rows_url(built, "?field=order_date&value=1997-03-01"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert "Rows behind By month: Order date = Mar 1997" in english.content.decode()
    german_page = client.get(rows_url(built, "?field=order_date&value=1997-03-01"), HTTP_ACCEPT_LANGUAGE="de-DE")
    assert "Order date = März 1997" in german_page.content.decode()
