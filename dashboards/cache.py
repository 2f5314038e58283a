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
