"""Authorization matrix: every dashboard page and API endpoint, for every role.

The dashboard is owned by the executive and shared (view) with the manager and the rep.
"""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from dashboards.selectors import dashboards_for_user
from tests.factories import PASSWORD

ROLES = ["anonymous", "outsider", "rep", "manager", "executive", "admin"]
OK, FOUND, DENIED, UNAUTHORIZED = 200, 302, 403, 401

# url name -> (method, url template, expected status per role in ROLES order)
MATRIX = {
    "list": ("get", "/dashboards/", [FOUND, OK, OK, OK, OK, OK]),
    # Every role with a row scope may own dashboards (and the Admin role may, as before); an outsider may not.
    "create": ("post", "/dashboards/", [FOUND, DENIED, FOUND, FOUND, FOUND, FOUND]),
    "widget_rows": ("get", "/dashboards/{slug}/widgets/{widget}/rows/", [FOUND, DENIED, OK, OK, OK, OK]),
    "detail": ("get", "/dashboards/{slug}/", [FOUND, DENIED, OK, OK, OK, OK]),
    "widget": ("get", "/dashboards/{slug}/widgets/{widget}/", [FOUND, DENIED, OK, OK, OK, OK]),
    "widget_csv": ("get", "/dashboards/{slug}/widgets/{widget}/export.csv", [FOUND, DENIED, OK, OK, OK, OK]),
    "widget_new": ("get", "/dashboards/{slug}/widgets/new/", [FOUND, DENIED, DENIED, DENIED, OK, OK]),
    "widget_edit": ("get", "/dashboards/{slug}/widgets/{widget}/edit/", [FOUND, DENIED, DENIED, DENIED, OK, OK]),
    "share": ("post", "/dashboards/{slug}/share/", [FOUND, DENIED, DENIED, DENIED, FOUND, FOUND]),
    "api_list": ("get", "/api/dashboards/", [UNAUTHORIZED, OK, OK, OK, OK, OK]),
    "api_data": ("get", "/api/dashboard/{id}/data", [UNAUTHORIZED, DENIED, OK, OK, OK, OK]),
}
CASES = [(name, role, MATRIX[name][2][i]) for name in MATRIX for i, role in enumerate(ROLES)]


@pytest.fixture
def people(executive, manager, rep, outsider, admin_user):
    return {"executive": executive, "manager": manager, "rep": rep, "outsider": outsider, "admin": admin_user}


@pytest.mark.parametrize("name, role, expected", CASES, ids=[f"{n}-{r}" for n, r, _ in CASES])
def test_authorization_matrix(client, sales_dashboard, people, name, role, expected):
    method, template, _ = MATRIX[name]
    widget = sales_dashboard.widgets.first()
    url = template.format(slug=sales_dashboard.slug, widget=widget.pk, id=sales_dashboard.pk)
    headers = {}
    if role != "anonymous":
        user = people[role]
        if name.startswith("api"):
            headers["HTTP_AUTHORIZATION"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
        else:
            assert client.login(username=user.username, password=PASSWORD)
    data = {"title": "New one"} if name == "create" else {"username": "davolio", "level": "view"}
    response = getattr(client, method)(url, data, **headers) if method == "post" else client.get(url, **headers)
    assert response.status_code == expected, response.content[:300]
    if role == "anonymous" and expected == FOUND:
        assert response.url.startswith("/login/")
    if expected in (DENIED, UNAUTHORIZED):
        assert b"revenue" not in response.content.lower()


def test_unknown_dashboard_is_404_not_403(client, executive, db):
    client.login(username=executive.username, password=PASSWORD)
    assert client.get("/dashboards/no-such-board/").status_code == 404


def test_group_permission_grants_view(client, sales_dashboard, outsider):
    from django.contrib.auth.models import Group

    from dashboards.services.dashboards import dashboard_share

    group = Group.objects.create(name="Board")
    outsider.groups.add(group)
    dashboard_share(dashboard=sales_dashboard, level="view", group_name="Board")
    assert list(dashboards_for_user(outsider)) == [sales_dashboard]


def test_change_permission_opens_the_editor_but_not_sharing(client, sales_dashboard, manager):
    from dashboards.services.dashboards import dashboard_share

    dashboard_share(dashboard=sales_dashboard, level="change", username=manager.username)
    client.login(username=manager.username, password=PASSWORD)
    assert client.get(f"/dashboards/{sales_dashboard.slug}/widgets/new/").status_code == 200
    assert client.post(f"/dashboards/{sales_dashboard.slug}/share/", {"username": "x"}).status_code == 403
