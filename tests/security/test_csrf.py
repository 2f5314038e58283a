"""CSRF protection holds on every form and every cookie-authenticated endpoint."""

from __future__ import annotations

import re

from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.views import APIView

from tests.factories import PASSWORD
from tests.security.test_templates_csp import ROOT, project_templates

# Endpoints that may skip CSRF, and why. Nothing here authenticates by cookie.
CSRF_EXEMPT_ALLOWED = {
    "api-token-obtain": "takes a username and password in the body; no cookie authenticates it",
}

_POST_FORM = re.compile(r"<form\b[^>]*method\s*=\s*[\"']?post[\"']?[^>]*>(.*?)</form>", re.IGNORECASE | re.DOTALL)


def walk_patterns(resolver=None, prefix=""):
    """Every URL pattern of the project as (route text, pattern)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk_patterns(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def test_middleware_is_on():
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE


def test_every_post_form_in_every_template_carries_the_token():
    missing = []
    for path in project_templates():
        for body in _POST_FORM.findall(path.read_text(encoding="utf-8")):
            if "{% csrf_token %}" not in body:
                missing.append(path.relative_to(ROOT).as_posix())
    assert missing == []


def test_no_view_is_exempt_from_csrf():
    exempt = []
    for route, pattern in walk_patterns():
        callback = pattern.callback
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view_class is not None and issubclass(view_class, APIView):
            # DRF exempts its views from Django's check and enforces CSRF inside SessionAuthentication;
            # any other cookie-based authentication class would be a hole.
            for auth in view_class().get_authenticators():
                assert isinstance(auth, (SessionAuthentication, TokenAuthentication)), (route, auth)
            continue
        if getattr(callback, "csrf_exempt", False) and pattern.name not in CSRF_EXEMPT_ALLOWED:
            exempt.append(route)
    assert exempt == []


def test_login_without_the_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_a_logged_in_form_post_without_the_token_is_refused(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.post("/account/tokens/", {"action": "create"}).status_code == 403
    assert client.post("/logout/").status_code == 403


def test_a_session_authenticated_api_call_without_the_token_is_refused(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    response = client.post("/api/auth/token/revoke/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_the_same_form_post_with_the_token_works(rep):
    client = Client(enforce_csrf_checks=True)
    client.post("/login/")  # sets nothing; fetch the page to get the cookie
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post("/login/", {"username": rep.username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
