from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from accounts.selectors import user_row_scope
from tests.factories import Role, persona


def ids(nw, *external_ids):
    return frozenset(nw[e].pk for e in external_ids)


def test_executive_sees_all_rows(executive):
    assert user_row_scope(executive).all_rows


def test_analyst_sees_all_rows(nw_employees):
    assert user_row_scope(persona("ana", Role.ANALYST)).all_rows


def test_manager_sees_own_and_whole_subtree_at_any_depth(nw_employees):
    # Fuller (2) manages 1, 3, 4, 5, 8; 5 (Buchanan) manages 6, 7, 9: Fuller's subtree is everyone.
    fuller_as_manager = persona("fuller-mgr", Role.MANAGER, nw_employees["2"])
    scope = user_row_scope(fuller_as_manager)
    assert not scope.all_rows
    assert scope.employee_ids == ids(nw_employees, "1", "2", "3", "4", "5", "6", "7", "8", "9")


def test_a_cycle_in_the_manager_hierarchy_ends_the_subtree_instead_of_recursing_forever(nw_employees):
    from accounts.selectors import employee_subtree_ids

    # Bad data: Fuller (2), at the top, is made to report to Callahan (8), who reports to Fuller.
    nw_employees["2"].manager = nw_employees["8"]
    nw_employees["2"].save(update_fields=["manager"])
    everyone = ids(nw_employees, "1", "2", "3", "4", "5", "6", "7", "8", "9")

    assert user_row_scope(persona("callahan-mgr", Role.MANAGER, nw_employees["8"])).employee_ids == everyone
    assert employee_subtree_ids(nw_employees["5"].pk) == ids(nw_employees, "5", "6", "7", "9")


def test_manager_cannot_see_other_teams_rows(manager, nw_employees):
    scope = user_row_scope(manager)
    assert scope.employee_ids == ids(nw_employees, "5", "6", "7", "9")
    assert not scope.allows(nw_employees["1"].pk)
    assert not scope.allows(nw_employees["2"].pk)


def test_sales_rep_sees_only_themselves(rep, nw_employees):
    assert user_row_scope(rep).employee_ids == ids(nw_employees, "1")


def test_user_without_role_sees_nothing(outsider):
    scope = user_row_scope(outsider)
    assert scope.is_empty
    assert scope.cache_key() == "none"


def test_manager_without_linked_employee_sees_nothing(db):
    assert user_row_scope(persona("lonely", Role.MANAGER)).is_empty


def test_admin_role_alone_grants_no_rows(nw_employees):
    assert user_row_scope(persona("admin-only", Role.ADMIN, nw_employees["2"])).is_empty


def test_anonymous_sees_nothing(db):
    assert user_row_scope(AnonymousUser()).is_empty


def test_inactive_user_sees_nothing(executive):
    executive.is_active = False
    executive.save()
    assert user_row_scope(executive).is_empty


def test_scope_cache_keys_differ_between_scopes(executive, manager, rep):
    keys = {user_row_scope(u).cache_key() for u in (executive, manager, rep)}
    assert len(keys) == 3


def test_role_migration_creates_every_role_group_once(db):
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth.models import Group

    migration = import_module("accounts.migrations.0003_role_groups")
    Group.objects.all().delete()
    migration.create_roles(apps, None)
    migration.create_roles(apps, None)
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(r.value for r in Role)
