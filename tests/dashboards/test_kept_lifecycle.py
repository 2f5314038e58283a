"""A kept summary lives as long as a widget reads it: deleting its last widget, taking the question out of kept ready
or changing it drops its tables, team rows, snapshot and registry row; so does an administrator's "drop summary"."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from dashboards.kpi.kept import kept_teams_name
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import KeptQuestion, Widget
from dashboards.services.kept import kept_question_drop, question_unkeep
from dashboards.services.refresh import RefreshBusy, kpi_view_refresh
from tests.dashboards import test_kept_questions as kept_tests
from tests.factories import persona

pytestmark = pytest.mark.django_db

# The kept questions' fixtures and helpers.
built = kept_tests.built
_forget_kept_views = kept_tests._forget_kept_views
BY_MONTH, live_rows, save, widget_rows = (
    kept_tests.BY_MONTH,
    kept_tests.live_rows,
    kept_tests.save,
    kept_tests.widget_rows,
)


def tables_left(name: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NOT NULL", [[name, kept_teams_name(name)]]
        )
        left = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT count(*) FROM kpi_team_snapshots WHERE aggregate_name = %s", [kept_teams_name(name)])
        if cursor.fetchone()[0]:
            left.append("snapshot")
    return left


def kept_widget(built, question=BY_MONTH) -> tuple[Widget, str]:
    widget = Widget.objects.get(pk=save(built["buchanan"], built["dashboard"], question, keep_ready=True)["id"])
    return widget, widget.query_options["kept"]


def test_deleting_the_last_widget_of_a_summary_drops_it(built, django_capture_on_commit_callbacks):
    first, name = kept_widget(built)
    second, same = kept_widget(built, {**BY_MONTH, "limit": 5})
    assert same == name and len(tables_left(name)) == 3  # summary, team rows, their hierarchy snapshot
    with django_capture_on_commit_callbacks(execute=True):
        first.delete()
    assert KeptQuestion.objects.filter(name=name).exists() and len(tables_left(name)) == 3  # still read
    with django_capture_on_commit_callbacks(execute=True):
        second.dashboard.delete()  # the dashboard's widgets go with it
    assert not KeptQuestion.objects.filter(name=name).exists()
    assert tables_left(name) == []
    assert name not in KPI_VIEWS and kept_teams_name(name) not in KPI_VIEWS


def test_taking_a_question_out_of_kept_ready_drops_its_summary_and_reads_the_source(built):
    widget, name = kept_widget(built)
    assert question_unkeep(widget=widget) == [name]
    widget.refresh_from_db()
    assert "kept" not in widget.query_options and tables_left(name) == []
    assert widget_rows(built["buchanan"], widget) == live_rows(built["buchanan"], BY_MONTH)


def test_changing_a_kept_widgets_question_drops_the_summary_it_no_longer_reads(
    built, django_capture_on_commit_callbacks
):
    widget, name = kept_widget(built)
    changed = {**BY_MONTH, "measures": [{"column": "revenue", "agg": "sum"}]}
    with django_capture_on_commit_callbacks(execute=True):
        widget.data_source = {**widget.data_source, "filters": {**widget.query_options, "question": changed}}
        widget.save()
    assert tables_left(name) == [] and not KeptQuestion.objects.exists()


def test_the_sources_refresh_drops_a_summary_left_without_widgets(built):
    widget, name = kept_widget(built)
    widget.delete()  # its after-commit drop never runs: the test's transaction is not committed
    assert len(tables_left(name)) == 3
    kpi_view_refresh(view_name="dataset_orders")
    assert tables_left(name) == [] and not KeptQuestion.objects.exists()


def test_a_drop_does_not_run_beside_a_refresh_of_the_source(built):
    _widget, name = kept_widget(built)
    kept = KeptQuestion.objects.get()
    # This test's transaction holds the source's refresh lock (keeping the question ready took it, as a refresh
    # does): a drop from another connection does not run beside it.
    outcome: list = []

    def drop_elsewhere():
        try:
            kept_question_drop(kept=kept, wait=False)
        except RefreshBusy as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=drop_elsewhere)
    thread.start()
    thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], RefreshBusy)
    assert len(tables_left(name)) == 3
    kept_question_drop(kept=kept)  # here, the lock's holder: dropped
    assert tables_left(name) == []


def test_admin_lists_kept_summaries_and_drops_one_through_the_service(built, client, django_user_model):
    widget, name = kept_widget(built)
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x" * 20)
    client.force_login(root)
    page = client.get("/admin/dashboards/keptquestion/").content.decode()
    assert "dataset_orders" in page and "(team rows)" in page and " kB" in page
    assert "delete_selected" not in page  # a plain delete would leave the tables
    pk = KeptQuestion.objects.get().pk
    response = client.post(
        "/admin/dashboards/keptquestion/", {"action": "drop_summary", "_selected_action": [pk]}, follow=True
    )
    assert response.status_code == 200 and "Dropped 1 kept summary" in response.content.decode()
    assert tables_left(name) == [] and not KeptQuestion.objects.exists()
    widget.refresh_from_db()
    assert "kept" not in widget.query_options


def test_admin_of_kept_summaries_is_for_staff_only(built, client):
    kept_widget(built)
    client.force_login(built["fuller"])  # an executive, not staff
    response = client.get("/admin/dashboards/keptquestion/")
    assert response.status_code == 302 and "/admin/login/" in response.url
    client.force_login(persona("admin", "Admin"))  # staff, without permissions on kept summaries
    assert client.get("/admin/dashboards/keptquestion/").status_code == 403
    pk = KeptQuestion.objects.get().pk
    assert (
        client.post("/admin/dashboards/keptquestion/", {"action": "drop_summary", "_selected_action": [pk]}).status_code
        == 403
    )
    assert KeptQuestion.objects.exists()
