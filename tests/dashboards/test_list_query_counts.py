"""The dashboard list page and list API cost the same number of queries for 2 dashboards as for 12."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboards.services.dashboards import dashboard_create, dashboard_share
from tests.dashboards.test_api import api_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _add_dashboards(count: int, *, owner, viewer, start: int) -> None:
    """Half owned by the viewer, half shared with them by someone else (guardian): both paths of the list."""
    for i in range(start, start + count):
        if i % 2:
            dashboard_create(title=f"Own {i}", owner=viewer)
        else:
            shared = dashboard_create(title=f"Shared {i}", owner=owner)
            dashboard_share(dashboard=shared, level="view", username=viewer.username)


def _queries(get) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = get()
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", ["executive", "manager"])
def test_the_dashboard_list_page_does_not_query_per_dashboard(client, executive, manager, persona):
    viewer, owner = (executive, manager) if persona == "executive" else (manager, executive)
    client.login(username=viewer.username, password=PASSWORD)
    _add_dashboards(2, owner=owner, viewer=viewer, start=0)
    client.get("/dashboards/")  # session and permission caches warmed alike for both counts
    few = _queries(lambda: client.get("/dashboards/"))
    _add_dashboards(10, owner=owner, viewer=viewer, start=2)
    response = client.get("/dashboards/")
    assert response.content.decode().count("Shared ") >= 6  # the new dashboards are listed
    assert _queries(lambda: client.get("/dashboards/")) == few


@pytest.mark.parametrize("persona", ["executive", "manager"])
def test_the_dashboard_list_api_does_not_query_per_dashboard(executive, manager, persona):
    viewer, owner = (executive, manager) if persona == "executive" else (manager, executive)
    api = api_for(viewer)
    _add_dashboards(2, owner=owner, viewer=viewer, start=0)
    api.get("/api/dashboards/")
    few = _queries(lambda: api.get("/api/dashboards/"))
    _add_dashboards(10, owner=owner, viewer=viewer, start=2)
    assert len(api.get("/api/dashboards/").json()) == 12
    assert _queries(lambda: api.get("/api/dashboards/")) == few
