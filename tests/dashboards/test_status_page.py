from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from dashboards.kpi.registry import public_views
from dashboards.services.refresh import kpi_views_refresh_all
from tests.factories import PASSWORD, persona

pytestmark = pytest.mark.django_db
URL = "/dashboards/status/"


def test_the_status_url_is_named():
    assert reverse("dashboards:kpi_status") == URL


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/login/")


@pytest.mark.parametrize("who", ["outsider", "rep", "manager"])
def test_users_without_operations_access_are_refused(client, who, request):
    user = request.getfixturevalue(who)
    client.login(username=user.username, password=PASSWORD)
    response = client.get(URL)
    assert response.status_code == 403
    assert b"monthly_revenue" not in response.content


def test_an_executive_sees_every_view_with_its_freshness(client, executive):
    kpi_views_refresh_all(full=True)
    client.login(username=executive.username, password=PASSWORD)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    for view in public_views():
        assert f'data-view="{view.name}"' in body
    assert "top_customers_by_month" not in body  # helpers are not listed
    assert "fresh" in body and "never" not in body


def test_views_never_refreshed_show_as_stale(client, executive):
    client.login(username=executive.username, password=PASSWORD)
    body = client.get(URL).content.decode()
    assert "stale" in body and 'data-testid="stale-summary"' in body


def test_an_htmx_reload_returns_only_the_table(client, db):
    admin = persona("ops", Role.ADMIN)
    client.login(username=admin.username, password=PASSWORD)
    response = client.get(URL, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="status-table">')
