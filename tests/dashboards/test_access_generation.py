"""The cached scope cannot outlive a change of roles or the hierarchy, however the change is written.

Signals miss `QuerySet.update()`, bulk operations and raw SQL; the access generation is bumped by PostgreSQL
triggers inside the writing transaction (accounts/sql/access_generation.sql), so a demotion written the way an
attacker-minded script (or a hurried fix in a shell) would write it still shrinks the very next read.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import access_generation, user_get_with_access_generation
from canonical.models import Employee
from dashboards import selectors
from tests.dashboards.test_api import api_for


def reps_seen(client, dashboard) -> set[int]:
    response = client.get(f"/api/dashboard/{dashboard.pk}/data")
    assert response.status_code == 200
    (widget,) = [w for w in response.json()["widgets"] if w["title"] == "By rep"]
    return {row["sales_rep_id"] for row in widget["rows"]}


def demote_by_group_row(manager, employees) -> None:
    User.groups.through.objects.filter(user=manager).update(group=Group.objects.get(name=Role.SALES_REP))


def detach_report_by_update(manager, employees) -> None:
    Employee.objects.filter(pk=employees["6"].pk).update(manager=None)


def rename_the_role_group(manager, employees) -> None:
    Group.objects.filter(name=Role.MANAGER).update(name="Former managers")


def detach_report_by_raw_sql(manager, employees) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE canonical_employees SET manager_id = NULL WHERE id = %s", [employees["6"].pk])


# Each bypass and whether the manager keeps their own rows (a renamed role group leaves them no role at all).
BYPASSES = [
    pytest.param(demote_by_group_row, True, id="groups-through-update"),
    pytest.param(detach_report_by_update, True, id="employee-update"),
    pytest.param(detach_report_by_raw_sql, True, id="raw-sql"),
    pytest.param(rename_the_role_group, False, id="group-rename"),
]


@pytest.mark.parametrize(("bypass", "keeps_own"), BYPASSES)
def test_a_manager_demoted_without_signals_loses_the_team_on_the_next_session_read(
    client, manager, sales_dashboard, bypass, keeps_own
):
    client.force_login(manager)
    suyama = Employee.objects.get(external_id="6")
    assert reps_seen(client, sales_dashboard) == {manager.employee_id, suyama.pk}
    bypass(manager, {"6": suyama})
    assert reps_seen(client, sales_dashboard) == ({manager.employee_id} if keeps_own else set())


@pytest.mark.parametrize(("bypass", "keeps_own"), BYPASSES)
def test_a_manager_demoted_without_signals_loses_the_team_on_the_next_token_read(
    manager, sales_dashboard, bypass, keeps_own
):
    client = api_for(manager)
    suyama = Employee.objects.get(external_id="6")
    assert reps_seen(client, sales_dashboard) == {manager.employee_id, suyama.pk}
    bypass(manager, {"6": suyama})
    assert reps_seen(client, sales_dashboard) == ({manager.employee_id} if keeps_own else set())


def test_a_bulk_insert_of_employees_under_a_manager_widens_the_next_read(client, manager, sales_dashboard):
    client.force_login(manager)
    davolio = Employee.objects.get(external_id="1")
    assert davolio.pk not in reps_seen(client, sales_dashboard)
    # Davolio's row is deleted and inserted again under Buchanan by a bulk insert: no post_save is sent.
    Employee.objects.filter(pk=davolio.pk).delete()
    davolio.manager_id = manager.employee_id
    Employee.objects.bulk_create([davolio])
    assert davolio.pk in reps_seen(client, sales_dashboard)


def test_a_login_does_not_change_the_access_generation(manager):
    before = access_generation()
    User.objects.filter(pk=manager.pk).update(last_login=timezone.now())
    assert access_generation() == before


def test_a_request_user_carries_the_generation_and_a_cached_scope_costs_no_query(manager, sales_kpi):
    def as_a_request_loads_it():
        return user_get_with_access_generation(manager.pk)

    selectors.kpi_read_context(user=as_a_request_loads_it(), view_names=["test_sales_kpi"])
    user = as_a_request_loads_it()
    assert user.access_generation == access_generation()
    with CaptureQueriesContext(connection) as captured:
        context = selectors.kpi_read_context(user=user, view_names=["test_sales_kpi"])
    assert [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]] == []
    assert context.scope.employee_ids == {sales_kpi["5"].pk, sales_kpi["6"].pk, sales_kpi["7"].pk, sales_kpi["9"].pk}
