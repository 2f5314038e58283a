"""The session engine (SESSION_ENGINE): Django's database sessions, read through the Redis cache.

Every request loads its session; from the database that was a query (and an ORM compile) on every page, widget and
poll. Here a session is read from the cache, and from the database only on a miss; writes go to the database first,
then to the cache (Django's `cached_db`). What differs from `cached_db`:
- a cached session lives at most SESSION_CACHE_SECONDS (not the session's two weeks): a session removed from the
  database while Redis could not be told (logout during a Redis outage) is served from a surviving cache entry for
  at most that long;
- the cache fails open as the dashboards' does (`dashboards.cache`): Redis down or hung, the session is read from
  and written to the database, and the cache is skipped for a while instead of costing a timeout per call (Django's
  `cached_db` answers 500 when the cache write after a database read fails);
- whether a new key is taken is asked of the database only (no cache call when Redis is down at login).

Logout (`flush`) deletes the session from the cache and the database; a password change logs out the user's other
sessions as before (Django's auth checks the session's password hash against the user row, read on every request).
"""

from __future__ import annotations

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore

from dashboards.cache import cache_failed, cache_usable

SESSION_CACHE_SECONDS = 60
KEY_PREFIX = "accounts:session:v1:"


class SessionStore(cached_db.SessionStore):
    cache_key_prefix = KEY_PREFIX

    def load(self):
        data = None
        if cache_usable():
            try:
                data = self._cache.get(self.cache_key)
            except Exception:
                cache_failed("session cache unavailable: reading sessions from the database")
        if data is None:
            stored = self._get_session_from_db()
            if stored is None:
                return {}
            data = self.decode(stored.session_data)
            self._cache_put(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def exists(self, session_key):
        return DBStore.exists(self, session_key)

    def save(self, must_create=False):
        DBStore.save(self, must_create)
        self._cache_put(self._session, self.get_expiry_age())

    def delete(self, session_key=None):
        DBStore.delete(self, session_key)
        key = session_key if session_key is not None else self.session_key
        if key is None:
            return
        try:
            self._cache.delete(self.cache_key_prefix + key)
        except Exception:
            # The database row is gone; a cache entry that survives an outage lives SESSION_CACHE_SECONDS at most.
            cache_failed("session cache unavailable: a deleted session may stay cached for %s s", SESSION_CACHE_SECONDS)

    def _cache_put(self, data: dict, age: int) -> None:
        if not cache_usable():
            return
        try:
            self._cache.set(self.cache_key, data, max(0, min(age, SESSION_CACHE_SECONDS)))
        except Exception:
            cache_failed("session cache unavailable: session not cached")
