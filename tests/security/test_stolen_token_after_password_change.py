"""An attacker holds a user's API token; the user (or an admin) changes the password: the token must die."""

from __future__ import annotations

from django.core.management import call_command
from rest_framework.authtoken.models import Token

from accounts.models import Role
from accounts.services import api_token_create, user_upsert
from tests.factories import PASSWORD, persona

NEW_PASSWORD = "a-brand-new-long-passphrase-91"


def _works(client, key: str) -> bool:
    status = client.get("/api/dashboards/", HTTP_AUTHORIZATION=f"Token {key}").status_code
    assert status in (200, 401), status
    return status == 200


def test_stolen_token_stops_working_after_the_user_changes_the_password(client, db):
    admin = persona("admin", Role.ADMIN)  # staff: changes the password on the admin site's own page
    stolen = api_token_create(user=admin).key
    assert _works(client, stolen)
    client.force_login(admin)
    response = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    client.logout()
    assert not _works(client, stolen)


def test_stolen_token_stops_working_after_a_superuser_resets_the_password(client, rep, django_user_model):
    stolen = api_token_create(user=rep).key
    root = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(root)
    response = client.post(
        f"/admin/accounts/user/{rep.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    client.logout()
    assert not _works(client, stolen)
    assert not Token.objects.filter(user=rep).exists()


def test_stolen_token_stops_working_after_set_password(client, rep):
    stolen = api_token_create(user=rep).key
    rep.set_password(NEW_PASSWORD)
    rep.save()
    assert not _works(client, stolen)


def test_stolen_token_stops_working_after_changepassword_command(client, rep, monkeypatch):
    stolen = api_token_create(user=rep).key
    monkeypatch.setattr("getpass.getpass", lambda *a, **k: NEW_PASSWORD)
    call_command("changepassword", rep.username)
    assert not _works(client, stolen)


def test_a_token_survives_saves_that_do_not_change_the_password(client, rep):
    key = api_token_create(user=rep).key
    rep.first_name = "Nancy"
    rep.save()
    client.force_login(rep)  # updates last_login
    client.logout()
    user_upsert(username=rep.username, password=PASSWORD, roles=[Role.SALES_REP], employee_id=rep.employee_id)
    assert _works(client, key)
    user_upsert(username=rep.username, password=NEW_PASSWORD, roles=[Role.SALES_REP], employee_id=rep.employee_id)
    assert not _works(client, key)
