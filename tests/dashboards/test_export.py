from __future__ import annotations

import csv
import io

from django.db import connection

from tests.factories import PASSWORD


def export(client, user, dashboard, title, query=""):
    assert client.login(username=user.username, password=PASSWORD)
    w = dashboard.widgets.get(title=title)
    return client.get(f"/dashboards/{dashboard.slug}/widgets/{w.pk}/export.csv{query}")


def test_csv_export_holds_only_the_callers_rows(client, sales_dashboard, manager, sales_kpi):
    response = export(client, manager, sales_dashboard, "Monthly revenue")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="monthly-revenue.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {int(r["sales_rep_id"]) for r in rows} == {sales_kpi["5"].pk, sales_kpi["6"].pk}


def test_csv_export_applies_the_dashboard_filters(client, sales_dashboard, executive):
    response = export(client, executive, sales_dashboard, "Monthly revenue", "?from=2024-01&to=2024-01")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {r["month"] for r in rows} == {"2024-01-01"}


def test_csv_export_defuses_spreadsheet_formulas(client, executive, sales_kpi):
    from dashboards.services.dashboards import dashboard_create
    from dashboards.services.widgets import widget_create

    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO test_company_kpi VALUES ('=HYPERLINK(\"http://evil\")', 1), ('@SUM(A1)', 2)")
    dashboard = dashboard_create(title="Categories", owner=executive)
    widget_create(
        dashboard=dashboard,
        title="Categories",
        chart_type="table",
        view_name="test_company_kpi",
        vega_spec={"columns": ["category", "revenue"]},
    )
    body = export(client, executive, dashboard, "Categories").content.decode()
    assert "'=HYPERLINK" in body and "'@SUM(A1)" in body
    assert "\n=" not in body and "\n@" not in body


def test_outsider_cannot_export(client, sales_dashboard, outsider):
    assert export(client, outsider, sales_dashboard, "Monthly revenue").status_code == 403
