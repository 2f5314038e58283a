from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def revenue_of(payload) -> float:
    (widget,) = [w for w in payload["widgets"] if w["title"] == "Revenue"]
    return widget["rows"][0]["revenue"]


def test_dashboard_list_shows_only_dashboards_the_caller_may_view(sales_dashboard, rep, outsider):
    assert [d["slug"] for d in api_for(rep).get("/api/dashboards/").json()] == [sales_dashboard.slug]
    assert api_for(outsider).get("/api/dashboards/").json() == []


def test_data_has_the_contract_shape(sales_dashboard, executive):
    response = api_for(executive).get(f"/api/dashboard/{sales_dashboard.pk}/data")
    assert response.status_code == 200
    payload = response.json()
    assert set(payload) == {"dashboard", "widgets"}
    assert payload["dashboard"]["id"] == sales_dashboard.pk
    for widget in payload["widgets"]:
        assert {"id", "title", "view_name", "rows", "refreshed_at"} <= set(widget)
        assert widget["view_name"] == "test_sales_kpi"


def test_data_is_filtered_to_the_callers_rows(sales_dashboard, executive, manager, rep):
    assert revenue_of(api_for(executive).get(f"/api/dashboard/{sales_dashboard.pk}/data").json()) == 3426.30
    assert revenue_of(api_for(manager).get(f"/api/dashboard/{sales_dashboard.pk}/data").json()) == 126.00
    assert revenue_of(api_for(rep).get(f"/api/dashboard/{sales_dashboard.pk}/data").json()) == 300.30


def test_data_takes_the_dashboard_filters(sales_dashboard, manager, sales_kpi):
    url = f"/api/dashboard/{sales_dashboard.pk}/data?from=2024-02&to=2024-02&rep={sales_kpi['6'].pk}"
    assert revenue_of(api_for(manager).get(url).json()) == 8.75


def test_bad_filter_is_a_400_naming_the_problem(sales_dashboard, executive):
    response = api_for(executive).get(f"/api/dashboard/{sales_dashboard.pk}/data?from=soon")
    assert response.status_code == 400
    assert "from='soon' is not a date" in response.json()["filters"][0]


def test_session_auth_works_too(client, sales_dashboard, rep):
    from tests.factories import PASSWORD

    client.login(username=rep.username, password=PASSWORD)
    assert revenue_of(client.get(f"/api/dashboard/{sales_dashboard.pk}/data").json()) == 300.30


def test_anonymous_gets_401(sales_dashboard):
    assert APIClient().get(f"/api/dashboard/{sales_dashboard.pk}/data").status_code == 401
    assert APIClient().get("/api/dashboards/").status_code == 401


def test_outsider_gets_403_and_no_data(sales_dashboard, outsider):
    response = api_for(outsider).get(f"/api/dashboard/{sales_dashboard.pk}/data")
    assert response.status_code == 403
    assert "widgets" not in response.json()


def test_unknown_dashboard_is_404(executive, db):
    assert api_for(executive).get("/api/dashboard/999999/data").status_code == 404


def test_openapi_schema_describes_the_dashboard_endpoints(client, admin_user):
    client.force_login(admin_user)
    schema = client.get("/api/schema/?format=json").json()
    data = schema["paths"]["/api/dashboard/{dashboard_id}/data"]["get"]
    assert {p["name"] for p in data["parameters"]} >= {"dashboard_id", "from", "to", "rep", "team"}
    assert "/api/dashboards/" in schema["paths"]
