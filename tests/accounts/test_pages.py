from __future__ import annotations

from tests.factories import PASSWORD


def test_login_page_renders_for_anonymous(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_home_redirects_anonymous_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_logged_in_user_sees_navigation(client, rep, executive):
    assert client.login(username=rep.username, password=PASSWORD)
    body = client.get("/").content.decode()
    assert "Dashboards" in body
    assert ">Uploads<" not in body and ">Mappings<" not in body  # a rep may not upload (see test_menu.py)
    assert "Admin</a>" not in body  # a rep is not staff
    assert client.login(username=executive.username, password=PASSWORD)
    body = client.get("/").content.decode()
    for label in ("Uploads", "Mappings", "Dashboards"):
        assert label in body


def test_wrong_password_is_refused(client, rep):
    response = client.post("/login/", {"username": rep.username, "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_pages_send_a_content_security_policy_without_inline_script(client):
    policy = client.get("/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
