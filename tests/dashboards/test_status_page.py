from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from dashboards.kpi.registry import public_views
from dashboards.services.refresh import kpi_views_refresh_all
from tests.factories import PASSWORD, persona

pytestmark = pytest.mark.django_db
URL = "/dashboards/status/"


def test_the_status_url_is_named():
    assert reverse("dashboards:kpi_status") == URL


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith("/login/")


@pytest.mark.parametrize("who", ["outsider", "rep", "manager"])
def test_users_without_operations_access_are_refused(client, who, request):
    user = request.getfixturevalue(who)
    client.login(username=user.username, password=PASSWORD)
    response = client.get(URL)
    assert response.status_code == 403
    assert b"monthly_revenue" not in response.content


def test_an_executive_sees_every_view_with_its_freshness(client, executive):
    kpi_views_refresh_all(full=True)
    client.login(username=executive.username, password=PASSWORD)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    for view in public_views():
        assert f'data-view="{view.name}"' in body
    assert "top_customers_by_month" not in body  # helpers are not listed
    assert "fresh" in body and "never" not in body


def test_views_never_refreshed_show_as_stale(client, executive):
    client.login(username=executive.username, password=PASSWORD)
    body = client.get(URL).content.decode()
    assert "stale" in body and 'data-testid="stale-summary"' in body


def test_an_htmx_reload_returns_only_the_table(client, db):
    admin = persona("ops", Role.ADMIN)
    client.login(username=admin.username, password=PASSWORD)
    response = client.get(URL, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="status-table">')


def test_the_status_page_shows_when_each_view_runs_next(client, executive):
    from dashboards.services.schedules import schedules_ensure

    schedules_ensure()
    kpi_views_refresh_all(full=True)
    client.login(username=executive.username, password=PASSWORD)
    rows = client.get(URL).context["rows"]
    assert [row["view"].name for row in rows if row["next_run"] is None] == []


@pytest.mark.parametrize(
    "path", ["refreshjob", "kpiviewstate", "kpialert", "kpipendingrefresh"], ids=lambda p: f"admin {p}"
)
def test_admin_lists_the_refresh_engine_records(client, path):
    from django.contrib.auth import get_user_model

    kpi_views_refresh_all(full=True)
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client.login(username="root", password=PASSWORD)
    response = client.get(f"/admin/dashboards/{path}/")
    assert response.status_code == 200


def test_admin_of_refresh_jobs_is_closed_to_non_staff(client, executive):
    client.login(username=executive.username, password=PASSWORD)
    response = client.get("/admin/dashboards/refreshjob/")
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_the_status_page_shows_the_schedule_as_edited_in_the_admin(client, executive):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from dashboards.services.schedules import schedules_ensure, view_name_of_task

    schedules_ensure()
    kpi_views_refresh_all(full=True)
    task = next(t for t in PeriodicTask.objects.all() if view_name_of_task(t) == "monthly_revenue")
    every_six_hours, _ = IntervalSchedule.objects.get_or_create(every=6, period=IntervalSchedule.HOURS)
    task.crontab, task.interval = None, every_six_hours  # what an admin does in the periodic task's form
    task.save()
    client.login(username=executive.username, password=PASSWORD)
    response = client.get(URL)
    rows = {row["view"].name: row for row in response.context["rows"]}
    assert rows["monthly_revenue"]["schedule"] == "every 6 hours"
    body = response.content.decode()
    row_html = body.split('data-view="monthly_revenue"', 1)[1].split("</tr>", 1)[0]
    assert "every 6 hours" in row_html and "1 day" not in row_html
    # A nightly view says when, from its crontab, not the declared interval.
    assert "1 day" not in body and "UTC" in rows["gross_margin"]["schedule"]


def test_the_status_page_writes_times_as_the_viewer_does(client, executive, settings):
    from datetime import UTC, datetime

    from dashboards.models import KpiViewState

    settings.TIME_ZONE = "UTC"
    KpiViewState.objects.update_or_create(
        view_name="monthly_revenue", defaults={"last_success_at": datetime(2026, 5, 4, 13, 7, 9, tzinfo=UTC)}
    )
    client.login(username=executive.username, password=PASSWORD)

    german = client.get(URL, headers={"Accept-Language": "de-DE"}).content.decode()
    english = client.get(URL, headers={"Accept-Language": "en-US"}).content.decode()

    assert "04.05.2026, 13:07:09" in german and "2026-05-04 13:07:09" not in german
    assert "May 4, 2026, 1:07:09" in english
