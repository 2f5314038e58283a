"""The dashboards' use of the cache (Redis), in one place. The cache only saves work: when Redis is down or hung,
every read fails open to the database (as the login throttle does) instead of answering 500.

After a failure the cache is skipped for `CACHE_SKIP_SECONDS` in this process: a hung Redis then costs one socket
timeout per process and window, not one per call (a dashboard page makes a dozen cache calls)."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

logger = logging.getLogger("dashboards.selectors")

CACHE_SKIP_SECONDS = 5.0

_skip_until = 0.0


def cache_usable() -> bool:
    return time.monotonic() >= _skip_until


def cache_failed(message: str, *args) -> None:
    """Log the failure and skip the cache for a while (the caller goes on without it)."""
    global _skip_until
    _skip_until = time.monotonic() + CACHE_SKIP_SECONDS
    logger.warning(message, *args, exc_info=True)


def cache_reset() -> None:
    """Use the cache again at once (tests that restore a cache they broke)."""
    global _skip_until
    _skip_until = 0.0


def cache_get_many(keys: list[str], *, what: str = "KPI cache unavailable: reading from the database") -> dict:
    if not cache_usable():
        return {}
    try:
        return cache.get_many(keys)
    except Exception:
        cache_failed(what)
        return {}


def cache_get(key: str, default=None, *, what: str = "cache unavailable: reading from the database"):
    if not cache_usable():
        return default
    try:
        return cache.get(key, default)
    except Exception:
        cache_failed(what)
        return default


def cache_set(key: str, value, seconds: float, *, what: str = "cache unavailable: %s not cached") -> None:
    if not cache_usable():
        return
    try:
        cache.set(key, value, seconds)
    except Exception:
        cache_failed(what, key)


def cache_set_many(entries: dict, seconds: float, *, what: str = "KPI cache unavailable: rows not cached") -> None:
    if not cache_usable():
        return
    try:
        if len(entries) == 1:  # one SET with its expiry; set_many pipelines an MSET and an EXPIRE per key
            ((key, value),) = entries.items()
            cache.set(key, value, seconds)
        else:
            cache.set_many(entries, seconds)
    except Exception:
        cache_failed(what)


class CacheReads:
    """One request's independent cache reads in one round trip: the keys its readers will ask for are read together
    up front (one MGET), and each reader then takes its own entries from here (`get_many`) instead of asking Redis
    again. A key that was not read ahead is read on its own. Fails open as `cache_get_many`: Redis down, nothing is
    found and every reader reads the database, as it would without this.

    Only for keys whose names are known before any of them is read: what was read ahead is what the reader would have
    read a moment later (the same key, so the same scope, generation and freshness stamp)."""

    __slots__ = ("_asked", "_found")

    def __init__(self, keys: list[str], *, what: str = "cache unavailable: reading from the database"):
        self._asked = frozenset(keys)
        self._found = cache_get_many(list(dict.fromkeys(keys)), what=what) if keys else {}

    def get_many(self, keys: list[str]) -> dict:
        found = {key: self._found[key] for key in keys if key in self._found}
        rest = [key for key in keys if key not in self._asked]
        if rest:
            found |= cache_get_many(rest)
        return found


def cache_reads(reads: CacheReads | None, keys: list[str], **kw) -> dict:
    """`reads.get_many(keys)` when a request read them ahead, else `cache_get_many(keys)`."""
    return reads.get_many(keys) if reads is not None else cache_get_many(keys, **kw)
