"""Every role with a row scope may own dashboards: create, change and share their own; readers see their own rows."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from dashboards.models import Dashboard
from dashboards.services.dashboards import dashboard_create
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_a_rep_or_a_manager_creates_a_dashboard_of_their_own(client, who, request):
    user = request.getfixturevalue(who)
    login(client, user)
    assert 'data-testid="new-dashboard"' in client.get("/dashboards/").content.decode()
    response = client.post("/dashboards/", {"title": f"{who}'s corner"})
    dashboard = Dashboard.objects.get(title=f"{who}'s corner")
    assert response.status_code == 302 and response.url == dashboard.get_absolute_url()
    assert dashboard.owner == user
    assert client.get(f"/dashboards/{dashboard.slug}/widgets/new/").status_code == 200


def test_an_outsider_may_not_create_a_dashboard(client, outsider):
    login(client, outsider)
    assert 'data-testid="new-dashboard"' not in client.get("/dashboards/").content.decode()
    assert client.post("/dashboards/", {"title": "Mine"}).status_code == 403
    assert not Dashboard.objects.filter(title="Mine").exists()


def test_a_rep_shares_their_own_dashboard_and_the_reader_sees_only_their_rows(client, rep, manager, sales_kpi):
    dashboard = dashboard_create(title="Davolio's", owner=rep)
    api = APIClient()
    api.force_authenticate(rep)
    saved = api.post(
        "/api/questions/",
        {
            "dashboard": dashboard.pk,
            "title": "By rep",
            "source": "test_sales_kpi",
            "dimensions": ["sales_rep_id"],
            "measures": [{"column": "revenue", "agg": "sum"}],
        },
        format="json",
    )
    assert saved.status_code == 201, saved.content
    login(client, rep)
    response = client.post(f"/dashboards/{dashboard.slug}/share/", {"username": manager.username, "level": "view"})
    assert response.status_code == 302
    api.force_authenticate(manager)
    rows = api.get(f"/api/dashboard/{dashboard.pk}/data").json()["widgets"][0]["rows"]
    assert {r["sales_rep_id"] for r in rows} == {sales_kpi["5"].pk, sales_kpi["6"].pk}
    api.force_authenticate(rep)
    rows = api.get(f"/api/dashboard/{dashboard.pk}/data").json()["widgets"][0]["rows"]
    assert {r["sales_rep_id"] for r in rows} == {sales_kpi["1"].pk}


def test_a_rep_may_not_share_or_change_a_dashboard_shared_with_them(client, rep, manager, executive):
    dashboard = dashboard_create(title="Executive's", owner=executive)
    from dashboards.services.dashboards import dashboard_share

    dashboard_share(dashboard=dashboard, level="view", username=rep.username)
    login(client, rep)
    assert (
        client.post(f"/dashboards/{dashboard.slug}/share/", {"username": manager.username, "level": "view"}).status_code
        == 403
    )
    assert client.get(f"/dashboards/{dashboard.slug}/widgets/new/").status_code == 403
