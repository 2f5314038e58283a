"""Attacks on API keys through the admin site and the audit trail: a key seen is a user impersonated.

A staff member with the Admin role (or a superuser) browses every admin page that could name a token —
the token list, its detail, delete and history pages, the audit trail list and entries, the admin index's
recent actions — before and after revoking one; no 8-character piece of any key may appear.
"""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from rest_framework.authtoken.models import Token

from accounts.models import Role
from accounts.services import api_token_create
from tests.factories import PASSWORD, persona


def _pieces(key: str, size: int = 8) -> set[str]:
    return {key[i : i + size] for i in range(len(key) - size + 1)}


def _leaks(text: str, keys: list[str]) -> list[str]:
    return sorted({piece for key in keys for piece in _pieces(key) if piece in text})


def _token_pages(client, user_ids: list[int]) -> dict[str, str]:
    urls = ["/admin/", "/admin/accounts/apitoken/", "/admin/auditlog/logentry/", "/admin/accounts/"]
    for pk in user_ids:
        urls += [
            f"/admin/accounts/apitoken/{pk}/change/",
            f"/admin/accounts/apitoken/{pk}/delete/",
            f"/admin/accounts/apitoken/{pk}/history/",
            f"/admin/accounts/user/{pk}/change/",
        ]
    token_type = ContentType.objects.get_for_model(Token)
    urls += [f"/admin/auditlog/logentry/{e.pk}/change/" for e in LogEntry.objects.filter(content_type=token_type)]
    pages = {}
    for url in urls:
        response = client.get(url, follow=True)
        pages[url] = response.content.decode()
    return pages


def test_admin_role_cannot_read_api_keys(client, executive, manager, rep):
    keys = [api_token_create(user=u).key for u in (executive, manager, rep)]
    client.force_login(persona("admin", Role.ADMIN))

    listing = client.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200
    assert executive.username in listing.content.decode(), "the list still says who has a token"
    assert keys[0][:4] + "…" in listing.content.decode(), "a short prefix tells tokens apart"
    pages = _token_pages(client, [executive.pk, manager.pk, rep.pk])
    leaks = {url: _leaks(html, keys) for url, html in pages.items() if _leaks(html, keys)}
    assert leaks == {}


def test_admin_role_cannot_read_keys_in_drfs_own_token_list(client, executive):
    key = api_token_create(user=executive).key
    client.force_login(persona("admin", Role.ADMIN))
    response = client.get("/admin/authtoken/tokenproxy/", follow=True)
    assert response.status_code == 404
    assert _leaks(response.content.decode(), [key]) == []


def test_audit_entries_of_tokens_hold_no_piece_of_the_key(executive, rep):
    first = api_token_create(user=executive).key
    second = api_token_create(user=executive).key  # replaces (deletes) the first
    Token.objects.filter(user=executive).delete()
    third = api_token_create(user=rep).key
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Token))
    assert entries.filter(action=LogEntry.Action.CREATE).count() == 3
    assert entries.filter(action=LogEntry.Action.DELETE).count() == 2
    for entry in entries:
        stored = " ".join(
            str(v)
            for v in (entry.object_pk, entry.object_repr, entry.changes, entry.serialized_data, entry.additional_data)
        )
        assert _leaks(stored, [first, second, third]) == [], entry.pk
    assert set(entries.values_list("object_pk", flat=True)) == {str(executive.pk), str(rep.pk)}


def test_admin_role_revoking_a_token_leaves_no_key_in_messages_or_history(client, executive):
    key = api_token_create(user=executive).key
    client.force_login(persona("admin", Role.ADMIN))
    response = client.post(f"/admin/accounts/apitoken/{executive.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert not Token.objects.filter(key=key).exists()
    assert _leaks(response.content.decode(), [key]) == []
    for url, html in _token_pages(client, [executive.pk]).items():
        assert _leaks(html, [key]) == [], url


def test_superuser_revokes_a_token_without_seeing_it(client, executive, django_user_model):
    key = api_token_create(user=executive).key
    root = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(root)
    for url, html in _token_pages(client, [executive.pk]).items():
        assert _leaks(html, [key]) == [], url
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403, "keys are made by their owner only"
    response = client.post(f"/admin/accounts/apitoken/{executive.pk}/delete/", {"post": "yes"}, follow=True)
    assert _leaks(response.content.decode(), [key]) == []
    assert not Token.objects.filter(key=key).exists()
    assert client.get("/api/dashboards/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_keys_left_in_log_entries_written_before_the_fix_are_scrubbed(client, executive):
    """Entries written by 155f34a (auditlog keyed by the key; admin's log naming the deleted key)."""
    import importlib

    from django.apps import apps
    from django.contrib.admin.models import DELETION
    from django.contrib.admin.models import LogEntry as AdminLogEntry
    from rest_framework.authtoken.models import TokenProxy

    key = api_token_create(user=executive).key
    token_type = ContentType.objects.get_for_model(Token)
    old = LogEntry.objects.create(
        content_type=token_type,
        object_pk=key,
        object_repr=key,
        action=LogEntry.Action.CREATE,
        changes={"key": ["None", "*" * 20 + key[20:]], "user": ["None", str(executive.pk)]},
    )
    AdminLogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(TokenProxy, for_concrete_model=False),
        object_id=str(executive.pk),
        object_repr=key,
        action_flag=DELETION,
        user=persona("admin", Role.ADMIN),
    )

    importlib.import_module("accounts.migrations.0005_scrub_token_keys_from_logs").scrub(apps, None)

    old.refresh_from_db()
    assert (old.object_pk, old.object_repr, old.changes) == (
        str(executive.pk),
        f"API token of user {executive.pk}",
        {"user": ["None", str(executive.pk)]},
    )
    assert _leaks(" ".join(AdminLogEntry.objects.values_list("object_repr", flat=True)), [key]) == []
    client.force_login(persona("admin", Role.ADMIN))
    for url, html in _token_pages(client, [executive.pk]).items():
        assert _leaks(html, [key]) == [], url
