"""The user a request loads (`user_get_with_access_generation`): the user's row as the ORM reads it, with the access
generation and the role names read in the same statement, so the site menu asks no query of its own."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from accounts.selectors import access_generation, user_get_with_access_generation, user_role_names
from accounts.services import user_upsert
from tests.factories import PASSWORD


def test_the_request_user_is_the_users_row_with_generation_and_roles(manager):
    loaded = user_get_with_access_generation(manager.pk)
    stored = User.objects.get(pk=manager.pk)
    fields = [f.attname for f in User._meta.concrete_fields]
    assert [getattr(loaded, f) for f in fields] == [getattr(stored, f) for f in fields]
    assert loaded.access_generation == access_generation()
    assert loaded.role_names == frozenset({Role.MANAGER})
    assert not loaded._state.adding and loaded._state.db == "default"  # saved as an update, as the ORM's would be


def test_the_roles_carried_by_the_request_user_cost_no_query(executive):
    loaded = user_get_with_access_generation(executive.pk)
    with CaptureQueriesContext(connection) as captured:
        assert user_role_names(loaded) == {Role.EXECUTIVE}
    assert captured.captured_queries == []
    assert user_role_names(User.objects.get(pk=executive.pk)) == {Role.EXECUTIVE}  # a user not loaded so: one query


def test_a_user_without_roles_carries_none(outsider):
    assert user_get_with_access_generation(outsider.pk).role_names == frozenset()


def test_no_such_user_is_none(db):
    assert user_get_with_access_generation(10**12) is None
    assert user_get_with_access_generation("not a number") is None


def test_a_role_given_shows_in_the_menu_at_the_next_request(client, rep):
    assert client.login(username=rep.username, password=PASSWORD)
    assert ">Uploads<" not in client.get("/").content.decode()
    user_upsert(username=rep.username, password=None, roles=[Role.EXECUTIVE], employee_id=rep.employee_id)
    assert ">Uploads<" in client.get("/").content.decode()
