"""Users create and revoke their own API token; a revoked token is refused at once; staff revoke in admin."""

from __future__ import annotations

from rest_framework.authtoken.models import Token

from accounts.services import api_token_create
from tests.factories import PASSWORD


def test_anonymous_is_sent_to_login_from_the_token_page(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_user_creates_a_token_that_is_shown_once(client, rep):
    client.force_login(rep)
    response = client.post("/account/tokens/", {"action": "create"})
    token = Token.objects.get(user=rep)
    assert token.key in response.content.decode()
    assert token.key not in client.get("/account/tokens/").content.decode()


def test_a_revoked_token_is_refused(client, rep):
    key = api_token_create(user=rep).key
    assert client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    client.force_login(rep)
    client.post("/account/tokens/", {"action": "revoke"})
    client.logout()
    assert not Token.objects.filter(user=rep).exists()
    assert client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {key}").status_code in (401, 403)


def test_replacing_a_token_revokes_the_old_one(client, rep):
    old = api_token_create(user=rep).key
    client.force_login(rep)
    client.post("/account/tokens/", {"action": "create"})
    assert Token.objects.get(user=rep).key != old


def test_revoking_affects_only_the_callers_token(client, rep, manager):
    api_token_create(user=rep)
    theirs = api_token_create(user=manager).key
    client.force_login(rep)
    client.post("/account/tokens/", {"action": "revoke"})
    assert Token.objects.get(user=manager).key == theirs


def test_api_token_obtain_and_revoke(client, rep):
    response = client.post(
        "/api/auth/token/", {"username": rep.username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 201
    key = response.json()["token"]
    revoke = client.post("/api/auth/token/revoke/", HTTP_AUTHORIZATION=f"Token {key}")
    assert revoke.status_code == 204
    assert client.post("/api/auth/token/revoke/", HTTP_AUTHORIZATION=f"Token {key}").status_code in (401, 403)


def test_api_token_obtain_refuses_a_wrong_password_without_saying_which_part_was_wrong(client, rep):
    response = client.post(
        "/api/auth/token/", {"username": rep.username, "password": "nope"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid username or password."}
    assert not Token.objects.filter(user=rep).exists()


def test_unknown_action_is_refused_with_a_message(client, rep):
    client.force_login(rep)
    response = client.post("/account/tokens/", {"action": "drop table"}, follow=True)
    assert b"Unknown action" in response.content
    assert not Token.objects.filter(user=rep).exists()


def test_staff_revoke_a_users_token_in_admin(client, rep, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    key = api_token_create(user=rep).key
    client.force_login(admin)
    response = client.post(f"/admin/accounts/apitoken/{rep.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(key=key).exists()
