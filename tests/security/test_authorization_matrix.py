"""The authorization matrix: every URL pattern of the project × anonymous, outsider, rep, manager, executive,
admin → the expected status; data endpoints return exactly the caller's rows.

The URL list is walked from `get_resolver()`: a new URL without an entry in MATRIX (or a rule for the
admin site) fails `test_every_url_pattern_has_an_entry`, so nobody can add a page without deciding who
may open it.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import Role
from mappings.models import ExecutionJob
from mappings.services.mapping import mapping_save
from mappings.services.upload import data_source_create
from tests.dashboards.conftest import _fresh_cache, sales_dashboard, sales_kpi  # noqa: F401  (fixtures)
from tests.factories import persona
from tests.security.test_csrf import walk_patterns

PERSONAS = ("anonymous", "outsider", "rep", "manager", "executive", "admin")
LOGIN = "login"  # a redirect to the login page

# route → expected GET status per persona (same order as PERSONAS).
# {src}, {job}, {slug}, {widget}, {dash} are the executive's upload, job, dashboard (shared with the
# manager and the rep, for viewing) and widget.
MATRIX: dict[str, tuple] = {
    "": (LOGIN, 200, 200, 200, 200, 200),
    "login/": (200, 200, 200, 200, 200, 200),
    "logout/": (405, 405, 405, 405, 405, 405),
    "account/tokens/": (LOGIN, 200, 200, 200, 200, 200),
    "uploads/": (LOGIN, 403, 403, 403, 200, 200),
    "uploads/mappings/": (LOGIN, 403, 403, 403, 200, 200),
    "uploads/<int:source_id>/": (LOGIN, 403, 403, 403, 200, 200),
    "uploads/<int:source_id>/review/": (LOGIN, 403, 403, 403, 200, 200),
    # POST-only endpoints answer a GET with 405 before any access check: no data either way.
    "uploads/<int:source_id>/review/preview/": (LOGIN, 405, 405, 405, 405, 405),
    "uploads/<int:source_id>/review/dialect/": (LOGIN, 405, 405, 405, 405, 405),
    "uploads/<int:source_id>/review/date-order/": (LOGIN, 405, 405, 405, 405, 405),
    "uploads/<int:source_id>/versions/<int:version>/restore/": (LOGIN, 405, 405, 405, 405, 405),
    # The transform editor's fragments: a GET without its row number is a 404 for those who may see the upload.
    "uploads/<int:source_id>/review/step/": (LOGIN, 403, 403, 403, 404, 404),
    "uploads/<int:source_id>/review/row/": (LOGIN, 403, 403, 403, 404, 404),
    "uploads/<int:source_id>/read/": (LOGIN, 405, 405, 405, 405, 405),
    "uploads/<int:source_id>/execute/": (LOGIN, 405, 405, 405, 405, 405),
    "uploads/<int:source_id>/jobs/<uuid:job_id>/": (LOGIN, 403, 403, 403, 200, 200),
    "uploads/jobs/<uuid:job_id>/": (LOGIN, 403, 403, 403, 200, 200),
    "uploads/jobs/<uuid:job_id>/rejected/": (LOGIN, 403, 403, 403, 200, 200),
    "uploads/jobs/<uuid:job_id>/rejected.csv": (LOGIN, 403, 403, 403, 200, 200),
    "dashboards/": (LOGIN, 200, 200, 200, 200, 200),
    "dashboards/status/": (LOGIN, 403, 403, 403, 200, 200),
    # Questions read KPI rows: anyone whose scope holds rows (the Admin role sees none).
    "dashboards/questions/": (LOGIN, 403, 200, 200, 200, 403),
    "dashboards/questions/cancel/": (LOGIN, 405, 405, 405, 405, 405),  # POST: tests/dashboards/test_preview_limits
    "dashboards/<slug:slug>/": (LOGIN, 403, 200, 200, 200, 403),
    "dashboards/<slug:slug>/share/": (LOGIN, 405, 405, 405, 405, 405),
    "dashboards/<slug:slug>/changes/": (LOGIN, 403, 200, 200, 200, 403),
    "dashboards/<slug:slug>/widgets/new/": (LOGIN, 403, 403, 403, 200, 403),
    "dashboards/<slug:slug>/widgets/<int:widget_id>/": (LOGIN, 403, 200, 200, 200, 403),
    "dashboards/<slug:slug>/widgets/<int:widget_id>/edit/": (LOGIN, 403, 403, 403, 200, 403),
    "dashboards/<slug:slug>/widgets/<int:widget_id>/export.csv": (LOGIN, 403, 200, 200, 200, 403),
    "dashboards/<slug:slug>/widgets/<int:widget_id>/keep/": (LOGIN, 405, 405, 405, 405, 405),
    "dashboards/<slug:slug>/widgets/<int:widget_id>/rows/": (LOGIN, 403, 200, 200, 200, 403),
    "dashboards/promote/<int:source_id>/<int:chart>/": (LOGIN, 403, 403, 403, 200, 200),
    "admin/login/": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    "api/auth/token/": (405, 405, 405, 405, 405, 405),
    "api/auth/token/revoke/": (401, 405, 405, 405, 405, 405),
    "api/sources/": (401, 405, 405, 405, 405, 405),
    "api/mapping/propose": (401, 405, 405, 405, 405, 405),
    "api/mapping/save": (401, 405, 405, 405, 405, 405),
    "api/mapping/execute": (401, 405, 405, 405, 405, 405),
    "api/jobs/<uuid:job_id>": (401, 403, 403, 403, 200, 200),
    "api/dashboards/": (401, 200, 200, 200, 200, 200),
    "api/dashboard/<int:dashboard_id>/data": (401, 403, 200, 200, 200, 403),
    "api/questions/preview": (401, 405, 405, 405, 405, 405),
    "api/questions/": (401, 405, 405, 405, 405, 405),
    # The API's description is public (it holds no data); every endpoint it describes checks access.
    "api/schema/": (200, 200, 200, 200, 200, 200),
    "api/docs/": (200, 200, 200, 200, 200, 200),
}
# Django admin: only staff get in; the Admin role sees what its model permissions allow.
ADMIN_PREFIX = "admin/"
ADMIN_ROLE_MAY_VIEW = (
    "admin/auditlog/logentry/",
    "admin/accounts/apitoken/",
    "admin/accounts/user/",
    "admin/auth/group/",
    # Uploads, mappings and jobs, read-only (mappings/admin.py).
    "admin/mappings/datasource/",
    "admin/mappings/mapping/",
    "admin/mappings/fieldmapping/",
    "admin/mappings/executionjob/",
)

# The admin site's own pages (index, password change, ...) open for any staff member.
ADMIN_SITE_PAGES = (
    "admin/",
    "admin/password_change/",
    "admin/password_change/done/",
    "admin/jsi18n/",
    "admin/autocomplete/",
    "admin/r/<path:content_type_id>/<path:object_id>/",
)

_ARG = re.compile(r"<(?:(\w+):)?(\w+)>")


def _url(route: str, ids: dict) -> str | None:
    if route.startswith("^") or "(?P<" in route:
        return None  # regex routes of the admin site (app index, catch-all) are covered by the prefix rule
    return "/" + _ARG.sub(lambda m: str(ids[m.group(2)]), route)


def _expected_for_admin_route(route: str, persona_name: str) -> tuple[int, ...]:
    if persona_name in ("anonymous", "outsider", "rep", "manager", "executive"):
        return (302,)
    if route in ("admin/login/",):
        return (302,)
    if route == "admin/mappings/" or any(route.startswith(p) for p in ADMIN_ROLE_MAY_VIEW):
        # Adding or deleting needs permissions the role does not have; objects that do not exist redirect.
        return (200, 302, 403, 404)
    if route == "admin/logout/":
        return (405,)  # POST only
    if route in ADMIN_SITE_PAGES:
        return (403, 302, 404, 200)
    return (403, 302, 404)


@pytest.fixture
def world(sales_dashboard, executive, manager, rep, outsider, tmp_path, settings):  # noqa: F811
    settings.UPLOAD_DIR = tmp_path / "uploads"
    admin = persona("admin", Role.ADMIN)
    source = data_source_create(file=_csv(tmp_path), user=executive)
    mapping = mapping_save(
        source=source,
        fields=[{"source_col": "id", "canonical_table": "canonical_customers", "canonical_col": "external_id"}],
        user=executive,
    )
    job = ExecutionJob.objects.create(source=source, mapping=mapping, created_by=executive, status="succeeded")
    widget = sales_dashboard.widgets.order_by("position").last()
    users = {"outsider": outsider, "rep": rep, "manager": manager, "executive": executive, "admin": admin}
    ids = {
        "source_id": source.pk,
        "job_id": job.pk,
        "slug": sales_dashboard.slug,
        "widget_id": widget.pk,
        "chart": 0,
        "version": mapping.version,
        "dashboard_id": sales_dashboard.pk,
        "object_id": 1,
        "content_type_id": 1,
        "object_pk": sales_dashboard.pk,
        "user_id": rep.pk,
        "group_id": Group.objects.get(name=Role.MANAGER).pk,
        "id": rep.pk,
    }
    return users, ids


def _csv(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,name\n1,Ann\n")
    return path


def _client(users: dict, name: str) -> Client:
    client = Client()
    if name != "anonymous":
        client.force_login(users[name])
    return client


def _status(response) -> object:
    if response.status_code == 302 and "/login/" in response.url and "admin" not in response.url:
        return LOGIN
    return response.status_code


def test_every_url_pattern_has_an_entry():
    routes = {route for route, _ in walk_patterns()}
    missing = sorted(r for r in routes if r not in MATRIX and not r.startswith(ADMIN_PREFIX))
    assert missing == [], "new URLs need an entry in the authorization matrix"
    assert sorted(r for r in MATRIX if r not in routes) == [], "entries for URLs that no longer exist"


def test_every_url_answers_every_persona_as_the_matrix_says(world):
    users, ids = world
    clients = {name: _client(users, name) for name in PERSONAS}
    wrong = []
    checked = 0
    for route, _pattern in walk_patterns():
        url = _url(route, ids)
        if url is None:
            continue
        for i, name in enumerate(PERSONAS):
            if route.startswith(ADMIN_PREFIX) and route not in MATRIX:
                if name not in ("anonymous", "rep", "admin"):
                    continue  # every non-staff persona is the same to the admin site
                allowed = _expected_for_admin_route(route, name)
            elif route in MATRIX:
                allowed = (MATRIX[route][i],)
            else:
                continue  # reported by test_every_url_pattern_has_an_entry
            got = _status(clients[name].get(url))
            checked += 1
            if got not in allowed:
                wrong.append(f"{name:9} GET {url} → {got}, expected {allowed}")
    assert wrong == [], "\n" + "\n".join(wrong)
    assert checked > 300


def _rep_ids(rows: list[dict]) -> set[int]:
    return {r["sales_rep_id"] for r in rows}


def test_data_endpoints_return_exactly_the_callers_rows(world, sales_kpi):  # noqa: F811
    users, ids = world
    employees = sales_kpi
    expected = {
        "executive": ({employees[e].pk for e in ("1", "3", "5", "6")}, Decimal("3426.30")),
        "manager": ({employees[e].pk for e in ("5", "6")}, Decimal("126.00")),
        "rep": ({employees["1"].pk}, Decimal("300.30")),
    }
    for name, (rep_ids, total) in expected.items():
        client = _client(users, name)
        data = client.get(f"/api/dashboard/{ids['dashboard_id']}/data").json()
        by_rep = next(w for w in data["widgets"] if w["title"] == "By rep")
        assert _rep_ids(by_rep["rows"]) == rep_ids, name
        assert sum(Decimal(str(r["revenue"])) for r in by_rep["rows"]) == total, name
        csv_text = client.get(f"/dashboards/{ids['slug']}/widgets/{ids['widget_id']}/export.csv").content.decode()
        assert len(csv_text.strip().splitlines()) == len(rep_ids) + 1, name


def test_other_users_uploads_jobs_and_dashboards_are_not_found_or_forbidden(world, executive, tmp_path):
    users, ids = world
    analyst = persona("analyst2", Role.ANALYST)
    theirs = data_source_create(file=_csv(tmp_path), user=analyst)
    client = _client(users, "executive")
    assert client.get(f"/uploads/{theirs.pk}/").status_code == 404
    assert client.get(f"/uploads/{theirs.pk}/review/").status_code == 404
    assert client.get(f"/api/jobs/{uuid.uuid4()}").status_code == 404
    from dashboards.services.dashboards import dashboard_create

    private = dashboard_create(title="Analyst private", owner=analyst)
    for name in ("executive", "manager", "rep", "outsider", "admin"):
        c = _client(users, name)
        assert c.get(f"/dashboards/{private.slug}/").status_code == 403, name
        assert c.get(f"/api/dashboard/{private.pk}/data").status_code in (403, 404), name
        assert private.title not in c.get("/api/dashboards/").content.decode(), name


def _changelists() -> list[str]:
    from django.contrib import admin

    return sorted(f"/admin/{m._meta.app_label}/{m._meta.model_name}/" for m in admin.site._registry)


def test_admin_changelists_open_only_for_the_roles_that_may_see_them(world, django_user_model):
    """Every model list of the admin site × persona: the Admin role sees the trail, users, roles and
    masked API tokens, and nothing else (no canonical rows, no dashboards, no schedules); non-staff see none."""
    users, _ids = world
    users["superuser"] = django_user_model.objects.create_superuser("root", "root@example.com", "x" * 20)
    may_view = {"/" + route for route in ADMIN_ROLE_MAY_VIEW}
    assert may_view <= set(_changelists()), "a list the Admin role should see is not registered"
    wrong = []
    for url in _changelists():
        for name in ("anonymous", "outsider", "rep", "manager", "executive", "admin", "superuser"):
            if name == "superuser":
                expected = 200
            elif name == "admin":
                expected = 200 if url in may_view else 403
            else:
                expected = 302  # to the login page: not staff
            got = _client(users, name).get(url).status_code
            if got != expected:
                wrong.append(f"{name:10} GET {url} → {got}, expected {expected}")
    assert wrong == [], "\n" + "\n".join(wrong)
    assert "/admin/authtoken/tokenproxy/" not in _changelists(), "DRF's token list shows every key in clear"
