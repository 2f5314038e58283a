from __future__ import annotations

import re

from django.core.cache import cache

from dashboards.models import Dashboard, KpiViewState, Widget
from tests.factories import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def widget(dashboard, title) -> Widget:
    return dashboard.widgets.get(title=title)


def test_list_shows_only_dashboards_the_user_may_view(client, sales_dashboard, rep, outsider):
    assert "Sales test" in login(client, rep).get("/dashboards/").content.decode()
    client.logout()
    body = login(client, outsider).get("/dashboards/").content.decode()
    assert "Sales test" not in body
    assert "No dashboard has been shared with you yet" in body


def test_dashboard_page_has_a_grid_of_widgets_each_loading_through_htmx_with_an_href(client, sales_dashboard, rep):
    body = login(client, rep).get(f"/dashboards/{sales_dashboard.slug}/").content.decode()
    assert body.count('data-testid="widget"') == 3
    for w in sales_dashboard.widgets.all():
        url = f"/dashboards/{sales_dashboard.slug}/widgets/{w.pk}/"
        assert f'hx-get="{url}"' in body
        assert f'href="{url}"' in body
    assert "<script>" not in body  # no inline script: the CSP forbids it


def test_widget_partial_shows_the_managers_total(client, sales_dashboard, manager):
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget(sales_dashboard, 'Revenue').pk}/"
    response = login(client, manager).get(url, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body  # the partial only
    assert re.search(r'data-testid="kpi-number">126\.00<', body)


def test_widget_opened_directly_is_a_full_page(client, sales_dashboard, rep):
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget(sales_dashboard, 'Revenue').pk}/"
    body = login(client, rep).get(url).content.decode()
    assert "<html" in body and "300.30" in body


def test_chart_widget_carries_spec_and_rows_as_json_script(client, sales_dashboard, rep):
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget(sales_dashboard, 'Monthly revenue').pk}/"
    body = login(client, rep).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'type="application/json"' in body
    assert '"mark": {"type": "line"' in body
    assert "200.2" in body and "1000.0" not in body  # the rep's rows only


def test_filters_are_kept_in_the_widget_urls(client, sales_dashboard, manager, sales_kpi):
    rep6 = sales_kpi["6"].pk
    body = login(client, manager).get(f"/dashboards/{sales_dashboard.slug}/?from=2024-02&to=2024-02&rep={rep6}")
    assert f"?from=2024-02-01&amp;to=2024-02-29&amp;rep={rep6}" in body.content.decode()
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget(sales_dashboard, 'Revenue').pk}/"
    part = client.get(f"{url}?from=2024-02-01&to=2024-02-29&rep={rep6}", HTTP_HX_REQUEST="true").content.decode()
    assert ">8.75<" in part
    assert "vs previous period" in part


def test_number_widget_shows_change_vs_previous_period(client, sales_dashboard, rep):
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget(sales_dashboard, 'Revenue').pk}/?from=2024-02&to=2024-02"
    body = login(client, rep).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert ">200.20<" in body
    assert "+100.0% vs previous period" in body  # January: 100.10


def test_bad_filter_is_a_400_naming_it(client, sales_dashboard, rep):
    response = login(client, rep).get(f"/dashboards/{sales_dashboard.slug}/?from=2024-99")
    assert response.status_code == 400
    assert "from=&#x27;2024-99&#x27; is not a date" in response.content.decode()  # autoescaped, on a page


def test_rep_filter_only_offers_employees_in_scope(client, sales_dashboard, manager, sales_kpi):
    body = login(client, manager).get(f"/dashboards/{sales_dashboard.slug}/").content.decode()
    assert sales_kpi["6"].name in body
    assert sales_kpi["3"].name not in body


def test_widget_answers_304_when_nothing_changed(client, sales_dashboard, rep):
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget(sales_dashboard, 'Revenue').pk}/"
    first = login(client, rep).get(url, HTTP_HX_REQUEST="true")
    etag = first["ETag"]
    assert client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_finished_refresh_changes_the_etag_and_the_data(client, sales_dashboard, rep, sales_kpi):
    from django.db import connection
    from django.utils import timezone

    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget(sales_dashboard, 'Revenue').pk}/"
    etag = login(client, rep).get(url, HTTP_HX_REQUEST="true")["ETag"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE test_sales_kpi SET revenue = revenue + 1 WHERE sales_rep_id = %s", [sales_kpi["1"].pk])
    KpiViewState.objects.update_or_create(view_name="test_sales_kpi", defaults={"last_success_at": timezone.now()})
    response = client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert ">302.30<" in response.content.decode()
    assert "refreshed" in response.content.decode()


def test_widget_shows_stale_badge_when_never_refreshed(client, sales_dashboard, rep):
    cache.clear()
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget(sales_dashboard, 'Revenue').pk}/"
    body = login(client, rep).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="stale"' in body and "never refreshed" in body


def test_owner_can_share_from_the_page(client, sales_dashboard, executive, outsider):
    login(client, executive).post(
        f"/dashboards/{sales_dashboard.slug}/share/", {"username": outsider.username, "level": "view"}
    )
    client.logout()
    assert login(client, outsider).get(f"/dashboards/{sales_dashboard.slug}/").status_code == 200


def test_sharing_with_an_unknown_user_says_so(client, sales_dashboard, executive):
    response = login(client, executive).post(
        f"/dashboards/{sales_dashboard.slug}/share/", {"username": "nobody", "level": "view"}, follow=True
    )
    assert "no active user named &#x27;nobody&#x27;" in response.content.decode()


def test_viewer_cannot_share(client, sales_dashboard, rep, outsider):
    response = login(client, rep).post(
        f"/dashboards/{sales_dashboard.slug}/share/", {"username": outsider.username, "level": "view"}
    )
    assert response.status_code == 403


def test_executive_can_create_a_dashboard(client, executive):
    response = login(client, executive).post("/dashboards/", {"title": "My board"})
    assert response.status_code == 302
    assert response.url == "/dashboards/my-board/"


def test_a_rep_creates_a_dashboard_they_own(client, rep):
    response = login(client, rep).post("/dashboards/", {"title": "Mine"})
    assert response.status_code == 302
    assert Dashboard.objects.get(title="Mine").owner == rep


def test_table_widget_formats_money_counts_and_ids(client, sales_dashboard, executive, sales_kpi):
    url = f"/dashboards/{sales_dashboard.slug}/widgets/{widget(sales_dashboard, 'By rep').pk}/"
    body = login(client, executive).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<td>3,000.00</td>" in body
    assert f"<td>{sales_kpi['3'].pk}</td>" in body
