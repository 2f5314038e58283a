"""Brute force against the login page, the admin and the API token endpoint is throttled."""

from __future__ import annotations

from tests.factories import PASSWORD


def _fail(client, username: str, times: int):
    return [client.post("/login/", {"username": username, "password": "wrong-guess"}).status_code for _ in range(times)]


def test_five_wrong_passwords_lock_the_username_out_even_with_the_right_password(client, rep, tight_login_throttle):
    assert _fail(client, rep.username, 4) == [200, 200, 200, 200]
    assert _fail(client, rep.username, 1) == [429]

    response = client.post("/login/", {"username": rep.username, "password": PASSWORD})

    assert response.status_code == 429
    assert b"Too many failed log-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_the_lockout_holds_on_another_address_for_the_same_username(client, rep, tight_login_throttle):
    _fail(client, rep.username, 5)
    response = client.post("/login/", {"username": rep.username, "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429


def test_other_users_can_still_log_in_during_one_users_lockout(client, rep, manager, tight_login_throttle):
    _fail(client, rep.username, 5)
    response = client.post("/login/", {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 302


def test_one_address_trying_many_usernames_is_locked_out(client, rep, tight_login_throttle):
    tight_login_throttle.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 6
    for i in range(6):
        client.post("/login/", {"username": f"guess{i}", "password": "x"})
    response = client.post("/login/", {"username": rep.username, "password": PASSWORD})
    assert response.status_code == 429
    for i in range(6):
        from accounts.login_throttle import login_failures_reset

        login_failures_reset(username=f"guess{i}")


def test_a_successful_login_clears_the_count(client, rep, tight_login_throttle):
    _fail(client, rep.username, 4)
    assert client.post("/login/", {"username": rep.username, "password": PASSWORD}).status_code == 302
    client.logout()
    assert _fail(client, rep.username, 4) == [200, 200, 200, 200]


def test_the_admin_login_is_the_throttled_login_page(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url == "/login/?next=/admin/"


def test_api_token_endpoint_is_throttled(client, rep, tight_login_throttle):
    statuses = [
        client.post(
            "/api/auth/token/", {"username": rep.username, "password": "nope"}, content_type="application/json"
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    response = client.post(
        "/api/auth/token/", {"username": rep.username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 429
    assert "Too many failed logins" in response.json()["detail"]


def test_login_still_works_when_the_cache_is_unreachable(client, rep, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = client.post("/login/", {"username": rep.username, "password": PASSWORD})
    assert response.status_code == 302
