from __future__ import annotations

import pytest

from mappings.models import DataSource, ExecutionJob, FieldMapping, Mapping
from tests.factories import PASSWORD

LINE = {"mark": "line", "encoding": {"x": {"field": "month", "title": "Order Date"}, "y": {"field": "value"}}}
BARS = {"mark": "bar", "encoding": {"y": {"field": "category", "title": "Status"}, "x": {"field": "value"}}}
HISTOGRAM = {"mark": "bar", "encoding": {"x": {"field": "value", "bin": True}}}


@pytest.fixture
def upload(executive):
    source = DataSource.objects.create(
        name="orders.csv", file_path="orders.csv", sha256="0" * 64, uploaded_by=executive,
        profile={"charts": [LINE, BARS, HISTOGRAM]},
    )  # fmt: skip
    return source


def execute(source):
    mapping = Mapping.objects.create(source=source, version=1)
    for position, (col, table, target) in enumerate(
        [("Order Date", "canonical_orders", "order_date"), ("Status", "canonical_orders", "status")]
    ):
        FieldMapping.objects.create(
            mapping=mapping, source=source, version=1, source_col=col, canonical_table=table,
            canonical_col=target, position=position,
        )  # fmt: skip
    ExecutionJob.objects.create(source=source, mapping=mapping, status=ExecutionJob.Status.SUCCEEDED)


def test_executed_upload_chart_becomes_a_live_kpi_widget(client, upload, executive, sales_dashboard):
    execute(upload)
    client.login(username=executive.username, password=PASSWORD)
    page = client.get(f"/dashboards/promote/{upload.pk}/0/")
    assert "monthly_revenue" in page.content.decode()
    response = client.post(f"/dashboards/promote/{upload.pk}/0/", {"dashboard": sales_dashboard.pk})
    assert response.status_code == 302
    widget = sales_dashboard.widgets.get(title="Revenue by month")
    assert widget.view_name == "monthly_revenue" and widget.chart_type == "area"
    client.post(f"/dashboards/promote/{upload.pk}/1/", {"dashboard": sales_dashboard.pk})
    assert sales_dashboard.widgets.get(title="Order count by status").view_name == "order_fulfillment"


def test_chart_of_an_upload_not_yet_executed_says_what_to_do(client, upload, executive, sales_dashboard):
    client.login(username=executive.username, password=PASSWORD)
    body = client.get(f"/dashboards/promote/{upload.pk}/0/").content.decode()
    assert "map and execute this upload first" in body


def test_histogram_cannot_be_promoted(client, upload, executive, sales_dashboard):
    execute(upload)
    client.login(username=executive.username, password=PASSWORD)
    assert "not histograms" in client.get(f"/dashboards/promote/{upload.pk}/2/").content.decode()


def test_promoting_into_a_dashboard_the_user_may_not_change_is_403(client, upload, executive, rep, sales_dashboard):
    execute(upload)
    from dashboards.services.dashboards import dashboard_create

    other = dashboard_create(title="Not mine", owner=rep)
    client.login(username=executive.username, password=PASSWORD)
    assert client.post(f"/dashboards/promote/{upload.pk}/0/", {"dashboard": other.pk}).status_code == 403


def test_outsider_cannot_promote_from_uploads(client, upload, outsider):
    client.login(username=outsider.username, password=PASSWORD)
    assert client.get(f"/dashboards/promote/{upload.pk}/0/").status_code == 403


def test_another_data_manager_cannot_see_someone_elses_upload(client, upload):
    from tests.factories import Role, persona

    analyst = persona("analyst", Role.ANALYST)
    client.force_login(analyst)
    assert client.get(f"/dashboards/promote/{upload.pk}/0/").status_code == 404


def test_anonymous_is_sent_to_login(client, upload):
    assert client.get(f"/dashboards/promote/{upload.pk}/0/").url.startswith("/login/")
