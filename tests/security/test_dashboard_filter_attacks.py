"""A hostile user crafts dashboard links: filters with markup, look-alike digits, ids past bigint, and
dashboard titles that look like another dashboard's id. Every answer is a clean 400 (or the right
dashboard), never reflected HTML and never a 500."""

from __future__ import annotations

import html

import pytest

from dashboards.services.dashboards import dashboard_create
from tests.dashboards.conftest import sales_dashboard, sales_kpi  # noqa: F401 (fixtures)
from tests.factories import PASSWORD, Role, persona

MARKUP = '<meta http-equiv="refresh" content="0;url=https://evil.example/">'
# What str.isdigit() accepts and int() reads, or fails on: superscript two, Arabic-Indic one, fullwidth three.
LOOK_ALIKE_DIGITS = ["²", "١", "３"]
PAST_BIGINT = str(2**63)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _urls(dashboard) -> dict[str, tuple[str, dict]]:
    widget = dashboard.widgets.get(title="Monthly revenue")
    base = f"/dashboards/{dashboard.slug}/"
    return {
        "page": (base, {}),
        "widget page": (f"{base}widgets/{widget.pk}/", {}),
        "widget partial": (f"{base}widgets/{widget.pk}/", {"HTTP_HX_REQUEST": "true"}),
        "csv export": (f"{base}widgets/{widget.pk}/export.csv", {}),
    }


ENDPOINTS = ["page", "widget page", "widget partial", "csv export"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("param", ["from", "to", "rep", "team"])
def test_filter_markup_is_never_reflected_as_html(client, sales_dashboard, rep, endpoint, param):  # noqa: F811
    url, headers = _urls(sales_dashboard)[endpoint]
    response = login(client, rep).get(url, {param: MARKUP}, **headers)

    assert response.status_code == 400
    body = response.content.decode()
    assert MARKUP not in body and 'http-equiv="refresh"' not in body
    assert "&lt;meta" in body  # shown to the user, escaped
    if not response["Content-Type"].startswith("text/html"):
        assert response["Content-Type"].startswith("text/plain")
        assert response["X-Content-Type-Options"] == "nosniff"
    assert f"{param}=" in html.unescape(body)  # the message still names the bad filter


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_long_hostile_filter_value_is_cut_short_in_the_error(client, sales_dashboard, rep, endpoint):  # noqa: F811
    url, headers = _urls(sales_dashboard)[endpoint]
    response = login(client, rep).get(url, {"from": "x" * 5000}, **headers)
    assert response.status_code == 400
    assert "x" * 41 not in response.content.decode()


@pytest.mark.parametrize("param", ["rep", "team"])
@pytest.mark.parametrize("digit", LOOK_ALIKE_DIGITS)
def test_look_alike_unicode_digits_are_not_read_as_employee_ids(
    client,
    sales_dashboard,  # noqa: F811
    executive,
    param,
    digit,
):
    login(client, executive)
    for endpoint in ENDPOINTS:
        url, headers = _urls(sales_dashboard)[endpoint]
        response = client.get(url, {param: digit}, **headers)
        assert response.status_code == 400, (endpoint, response.status_code)
        assert "is not an employee id" in html.unescape(response.content.decode())
    response = client.get(f"/api/dashboard/{sales_dashboard.pk}/data", {param: digit})
    assert response.status_code == 400
    assert "is not an employee id" in response.json()["filters"][0]


@pytest.mark.parametrize("param", ["rep", "team"])
def test_an_employee_id_past_bigint_is_a_400_with_a_message(client, sales_dashboard, executive, param):  # noqa: F811
    login(client, executive)  # all rows: the id would reach SQL unnarrowed by a scope
    for endpoint in ENDPOINTS:
        url, headers = _urls(sales_dashboard)[endpoint]
        response = client.get(url, {param: PAST_BIGINT}, **headers)
        assert response.status_code == 400, (endpoint, response.status_code)
        assert "is not an employee id" in html.unescape(response.content.decode())
    response = client.get(f"/api/dashboard/{sales_dashboard.pk}/data", {param: PAST_BIGINT})
    assert response.status_code == 400
    assert "is not an employee id" in response.json()["filters"][0]


def test_the_largest_bigint_is_still_an_id_that_simply_matches_nothing(client, sales_dashboard, executive):  # noqa: F811
    response = login(client, executive).get(f"/api/dashboard/{sales_dashboard.pk}/data", {"rep": str(2**63 - 1)})
    assert response.status_code == 200
    rows = [row for w in response.json()["widgets"] for row in w["rows"]]
    assert all(row.get("revenue") is None for row in rows), rows  # no revenue of anybody


@pytest.mark.parametrize("value", ["0001-01", "0001-01-01", "9999-12", "9999-12-31"])
def test_dates_at_the_ends_of_the_calendar_are_answered_not_a_500(client, sales_dashboard, executive, value):  # noqa: F811
    login(client, executive)
    revenue = sales_dashboard.widgets.get(title="Revenue")  # a number widget: it reads the period before too
    for params in ({"from": value, "to": value}, {"from": value}, {"to": value}):
        response = client.get(f"/dashboards/{sales_dashboard.slug}/widgets/{revenue.pk}/", params)
        assert response.status_code == 200, (params, response.status_code)


def test_a_dashboard_titled_like_another_dashboards_id_opens_itself(client, db):
    executive = persona("fuller", Role.EXECUTIVE)
    analyst = persona("analyst", Role.ANALYST)
    secret = dashboard_create(title="Board only", owner=executive)
    decoy = dashboard_create(title=str(secret.pk), owner=analyst)
    assert decoy.slug == str(secret.pk)

    response = login(client, analyst).get(f"/dashboards/{decoy.slug}/")

    assert response.status_code == 200  # the analyst's own dashboard, not a 403 for the executive's
    assert response.context["dashboard"] == decoy
    login(client, executive)
    assert client.get(f"/dashboards/{decoy.slug}/").status_code == 403  # not the executive's "Board only"
    assert client.get(f"/api/dashboard/{secret.pk}/data").status_code == 200  # the API keeps ids


def test_a_dashboard_cannot_take_the_status_page_as_its_address(client, db):
    analyst = persona("analyst", Role.ANALYST)
    dashboard = dashboard_create(title="Status", owner=analyst)
    assert dashboard.slug != "status"
    assert login(client, analyst).get(dashboard.get_absolute_url()).status_code == 200
