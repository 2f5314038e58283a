"""Sessions are read through the cache (accounts.sessions): a request asks the database for no session, and logging
out, changing a password or being deactivated still ends a session at once, wherever its cookie is used."""

from __future__ import annotations

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.sessions import KEY_PREFIX, SESSION_CACHE_SECONDS
from tests.factories import PASSWORD

HOME = "/"


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def same_cookie(client: Client) -> Client:
    """Another browser holding the same session cookie (a copied or stolen one)."""
    other = Client()
    other.cookies["sessionid"] = client.cookies["sessionid"].value
    return other


def is_signed_in(client: Client) -> bool:
    response = client.get(HOME)
    return response.status_code == 200


def test_a_signed_in_request_reads_no_session_from_the_database(rep):
    client = signed_in(rep)
    assert is_signed_in(client)
    with CaptureQueriesContext(connection) as captured:
        assert is_signed_in(client)
    assert not [q for q in captured.captured_queries if "django_session" in q["sql"]]


def test_logging_out_ends_the_session_for_every_holder_of_its_cookie(rep):
    client = signed_in(rep)
    thief = same_cookie(client)
    assert is_signed_in(thief)  # the session is cached now
    assert client.post("/logout/").status_code == 302
    assert not is_signed_in(thief)
    assert thief.get(HOME).url.startswith("/login/")


def test_a_password_change_signs_out_the_users_other_sessions(rep):
    laptop, phone = signed_in(rep), signed_in(rep)
    assert is_signed_in(laptop) and is_signed_in(phone)
    rep.set_password("a new and long passphrase")
    rep.save()
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)


def test_a_deactivated_user_is_signed_out_at_the_next_request(rep):
    client = signed_in(rep)
    assert is_signed_in(client)
    type(rep).objects.filter(pk=rep.pk).update(is_active=False)  # however written: the user row is read per request
    assert not is_signed_in(client)


def test_one_users_session_never_signs_in_another(rep, executive):
    rep_client, executive_client = signed_in(rep), signed_in(executive)
    assert rep_client.get(HOME).context["user"].pk == rep.pk
    assert executive_client.get(HOME).context["user"].pk == executive.pk
    forged = Client()
    forged.cookies["sessionid"] = "x" * 32  # a key no login made: nothing cached or stored under it
    assert not is_signed_in(forged)


def test_a_cached_session_lives_at_most_a_minute_in_the_cache(rep):
    # A session deleted from the database while Redis could not be told (logout during an outage) lives no longer
    # than this in a cache entry that survived.
    client = signed_in(rep)
    assert is_signed_in(client)
    key = cache.make_key(KEY_PREFIX + client.cookies["sessionid"].value)
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(key)
    assert 0 < ttl <= SESSION_CACHE_SECONDS
