"""The menu and the home page offer each role only what it may open; error pages use the site layout and say
why and where to go."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.views import defaults

from accounts.models import Role
from tests.factories import PASSWORD, persona

pytestmark = pytest.mark.django_db


def page(client, user, path="/"):
    assert client.login(username=user.username, password=PASSWORD)
    return client.get(path)


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_managers_and_reps_are_not_offered_uploads_or_mappings(client, who, request):
    body = page(client, request.getfixturevalue(who)).content.decode()
    assert 'href="/uploads/"' not in body and 'href="/uploads/mappings/"' not in body
    assert 'href="/dashboards/"' in body
    assert 'data-testid="home-data-note"' in body  # says who uploads instead


def test_an_executive_is_offered_uploads_mappings_and_the_kpi_status_page(client, executive):
    body = page(client, executive).content.decode()
    for href in ('href="/uploads/"', 'href="/uploads/mappings/"', 'href="/dashboards/status/"', 'href="/api/docs/"'):
        assert href in body
    assert 'data-testid="home-data-note"' not in body


def test_an_analyst_and_staff_see_the_kpi_status_link_and_a_rep_does_not(client, rep):
    analyst = persona("analyst", Role.ANALYST)
    assert 'href="/dashboards/status/"' in page(client, analyst).content.decode()
    body = page(client, rep).content.decode()
    assert 'href="/dashboards/status/"' not in body
    assert 'href="/api/docs/"' in body  # every user has an API token and may read the docs


def test_the_api_docs_linked_from_the_menu_open(client, rep):
    assert page(client, rep, "/api/docs/").status_code == 200


@pytest.mark.parametrize("path", ["/uploads/", "/uploads/mappings/"])
def test_a_forbidden_page_uses_the_layout_says_why_and_where_to_go(client, rep, path):
    response = page(client, rep, path)
    assert response.status_code == 403
    body = response.content.decode()
    assert 'class="brand"' in body and "app.css" in body  # the site layout, not a bare "403 Forbidden"
    assert 'data-testid="error-403"' in body
    assert "Only executives, analysts and admins" in body  # why
    assert 'href="/"' in body and 'href="/dashboards/"' in body  # where to go


def test_a_missing_page_uses_the_layout(client, rep):
    response = page(client, rep, "/dashboards/no-such-dashboard/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'data-testid="error-404"' in body and 'class="brand"' in body
    assert "/dashboards/no-such-dashboard/" in body


def test_an_api_path_still_answers_json_404(client, rep):
    response = page(client, rep, "/api/no-such-endpoint/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_a_server_error_page_uses_the_layout_without_a_request_context():
    response = defaults.server_error(RequestFactory().get("/dashboards/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert 'data-testid="error-500"' in body and 'class="brand"' in body and "Log out" not in body
