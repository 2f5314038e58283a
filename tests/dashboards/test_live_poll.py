"""One poll per dashboard: which widgets changed, from cached access, scope and freshness.

An idle poll costs the session and the user and nothing else; a change of roles, shares, the hierarchy or a
refresh shows on the very next poll; outsiders get what the pages give them.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from guardian.shortcuts import remove_perm

from accounts.services import user_upsert
from canonical.models import Employee
from dashboards.models import KpiViewState
from tests.factories import Role

pytestmark = pytest.mark.django_db


def changes_url(dashboard) -> str:
    return f"/dashboards/{dashboard.slug}/changes/"


def poll(client, dashboard, etag: str = ""):
    return client.get(changes_url(dashboard), HTTP_IF_NONE_MATCH=etag)


def partial_etags(client, dashboard) -> dict[str, str]:
    """The ETag each widget partial sends now (what the page holds after drawing the widgets)."""
    return {
        str(w.pk): client.get(f"/dashboards/{dashboard.slug}/widgets/{w.pk}/", HTTP_HX_REQUEST="true")["ETag"]
        for w in dashboard.widgets.all()
    }


def test_the_poll_names_every_widget_with_the_etag_its_partial_sends(client, manager, sales_dashboard):
    client.force_login(manager)
    response = poll(client, sales_dashboard)
    assert response.status_code == 200
    assert response.json()["widgets"] == partial_etags(client, sales_dashboard)
    assert response["ETag"]


def test_an_idle_poll_answers_not_modified_with_one_query(
    client, manager, sales_dashboard, django_assert_max_num_queries
):
    client.force_login(manager)
    etag = poll(client, sales_dashboard)["ETag"]
    with django_assert_max_num_queries(1):  # the user (the session is read through the cache: accounts.sessions)
        response = poll(client, sales_dashboard, etag)
    assert response.status_code == 304
    assert response["ETag"] == etag


def test_a_finished_refresh_changes_the_widgets_on_the_next_poll(
    client, manager, sales_dashboard, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    before = poll(client, sales_dashboard)
    with django_capture_on_commit_callbacks(execute=True):
        KpiViewState.objects.update_or_create(view_name="test_sales_kpi", defaults={"last_success_at": timezone.now()})
    after = poll(client, sales_dashboard, before["ETag"])
    assert after.status_code == 200
    changed = {pk for pk, tag in after.json()["widgets"].items() if before.json()["widgets"][pk] != tag}
    assert changed == {str(w.pk) for w in sales_dashboard.widgets.all()}
    assert after.json()["widgets"] == partial_etags(client, sales_dashboard)


def test_a_manager_demoted_to_rep_gets_the_reps_scope_on_the_next_poll(
    client, manager, sales_dashboard, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    as_manager = poll(client, sales_dashboard).json()["widgets"]
    with django_capture_on_commit_callbacks(execute=True):
        user_upsert(username=manager.username, password=None, roles=[Role.SALES_REP], employee_id=manager.employee_id)
    as_rep = poll(client, sales_dashboard).json()["widgets"]
    assert all(as_rep[pk] != tag for pk, tag in as_manager.items())
    assert as_rep == partial_etags(client, sales_dashboard)


def test_a_manager_whose_team_changes_gets_the_new_scope_on_the_next_poll(
    client, manager, sales_dashboard, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    before = poll(client, sales_dashboard).json()["widgets"]
    leverling = Employee.objects.get(external_id="3")
    with django_capture_on_commit_callbacks(execute=True):
        leverling.manager_id = manager.employee_id
        leverling.save()
    after = poll(client, sales_dashboard).json()["widgets"]
    assert all(after[pk] != tag for pk, tag in before.items())
    assert after == partial_etags(client, sales_dashboard)


def test_a_manager_demoted_by_a_raw_update_gets_the_reps_scope_on_the_next_poll(client, manager, sales_dashboard):
    from django.contrib.auth.models import Group

    from accounts.models import User

    client.force_login(manager)
    as_manager = poll(client, sales_dashboard).json()["widgets"]
    # No signal, no on_commit: only the access generation's trigger sees it.
    User.groups.through.objects.filter(user=manager).update(group=Group.objects.get(name=Role.SALES_REP))
    as_rep = poll(client, sales_dashboard).json()["widgets"]
    assert all(as_rep[pk] != tag for pk, tag in as_manager.items())
    assert as_rep == partial_etags(client, sales_dashboard)


def test_a_revoked_share_forbids_the_next_poll(client, rep, sales_dashboard, django_capture_on_commit_callbacks):
    client.force_login(rep)
    assert poll(client, sales_dashboard).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        remove_perm("dashboards.view_dashboard", rep, sales_dashboard)
    assert poll(client, sales_dashboard).status_code == 403


def test_a_widget_added_shows_in_the_next_poll(client, manager, sales_dashboard, django_capture_on_commit_callbacks):
    from dashboards.services.widgets import widget_create

    client.force_login(manager)
    before = poll(client, sales_dashboard).json()["widgets"]
    with django_capture_on_commit_callbacks(execute=True):
        widget = widget_create(
            dashboard=sales_dashboard, title="More", chart_type="table", view_name="test_sales_kpi", vega_spec={}
        )
    after = poll(client, sales_dashboard).json()["widgets"]
    assert set(after) == set(before) | {str(widget.pk)}


def test_an_anonymous_poll_is_sent_to_the_login_page(client, sales_dashboard):
    response = poll(client, sales_dashboard)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_outsider_may_not_poll_a_dashboard_not_shared_with_them(client, outsider, sales_dashboard):
    client.force_login(outsider)
    assert poll(client, sales_dashboard).status_code == 403
    assert poll(client, sales_dashboard).status_code == 403  # a refusal is never cached as access


def test_polling_a_dashboard_that_does_not_exist_is_404(client, manager, sales_dashboard):
    client.force_login(manager)
    assert client.get("/dashboards/no-such-dashboard/changes/").status_code == 404


def test_a_bad_filter_is_400(client, manager, sales_dashboard):
    client.force_login(manager)
    assert client.get(changes_url(sales_dashboard) + "?from=<b>").status_code == 400


# The page and its widget partials take the dashboard, its widgets and the caller's right to it from the same kind of
# cache as the poll (`dashboard_viewing_for_user`): dropped by the same changes.


def widget_url(dashboard, widget) -> str:
    return f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/"


def test_a_revoked_share_forbids_the_next_page_and_widget(
    client, rep, sales_dashboard, django_capture_on_commit_callbacks
):
    widget = sales_dashboard.widgets.first()
    client.force_login(rep)
    assert client.get(f"/dashboards/{sales_dashboard.slug}/").status_code == 200
    assert client.get(widget_url(sales_dashboard, widget), HTTP_HX_REQUEST="true").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        remove_perm("dashboards.view_dashboard", rep, sales_dashboard)
    assert client.get(f"/dashboards/{sales_dashboard.slug}/").status_code == 403
    assert client.get(widget_url(sales_dashboard, widget), HTTP_HX_REQUEST="true").status_code == 403


def test_a_widget_edited_or_deleted_is_served_as_it_is_now(
    client, manager, sales_dashboard, django_capture_on_commit_callbacks
):
    from dashboards.services.widgets import widget_delete

    widget = sales_dashboard.widgets.first()
    client.force_login(manager)
    assert client.get(widget_url(sales_dashboard, widget)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        widget.title = "Renamed for the test"
        widget.save()
    assert "Renamed for the test" in client.get(widget_url(sales_dashboard, widget)).content.decode()
    assert "Renamed for the test" in client.get(f"/dashboards/{sales_dashboard.slug}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        widget_delete(widget=widget)
    assert client.get(widget_url(sales_dashboard, widget), HTTP_HX_REQUEST="true").status_code == 404


def test_an_outsider_is_refused_the_page_and_a_widget_every_time(client, outsider, sales_dashboard):
    widget = sales_dashboard.widgets.first()
    client.force_login(outsider)
    for _ in range(2):  # a refusal is never cached: the second request is checked again
        assert client.get(f"/dashboards/{sales_dashboard.slug}/").status_code == 403
        assert client.get(widget_url(sales_dashboard, widget), HTTP_HX_REQUEST="true").status_code == 403


def test_the_cached_dashboard_carries_no_password_hash(manager, sales_dashboard):
    from dashboards.selectors import dashboard_viewing_for_user

    first = dashboard_viewing_for_user(manager, sales_dashboard.slug)
    cached = dashboard_viewing_for_user(manager, sales_dashboard.slug)
    assert first.dashboard.owner.password  # the request that checked access has the real owner
    assert cached.dashboard.owner.username == first.dashboard.owner.username
    assert cached.dashboard.owner.password == ""
    assert [w.pk for w in cached.widgets] == [w.pk for w in first.widgets]
