"""Live updates: one poll per open dashboard answers which widgets changed, without touching the database.

A dashboard page polls `dashboard_poll_for_user` every few seconds; an unchanged dashboard must cost nothing but
the session and the user (auth middleware). So the poll reads from the cache:
- the caller's view of the dashboard (allowed, its widgets, the caller's scope key), per session and dashboard,
  for POLL_CONTEXT_SECONDS, dropped at once when roles, shares, the hierarchy or the widgets change (every
  such change bumps the access generation in PostgreSQL, `accounts.selectors.access_generation`, read with the
  request's user);
- the KPI views' freshness, for FRESHNESS_CACHE_SECONDS, dropped when a refresh records its state.
Each widget's ETag is the one its partial sends (`presenters.widget_etag`), so the page re-fetches exactly the
widgets whose ETag differs from the one it holds.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction
from django.utils.dateparse import parse_datetime

from accounts.models import User
from accounts.selectors import access_generation, user_row_scope
from config.replica import PRIMARY, REPLICA, replica_configured
from dashboards.cache import CacheReads, cache_reads, cache_set
from dashboards.kpi.freshness import kpi_views_freshness
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Widget
from dashboards.presenters import widget_etag
from dashboards.selectors import (
    FRESHNESS_CACHE_KEY,
    FRESHNESS_POSITION_KEY,
    dashboard_get_for_user,
    freshness_cache_set,
)

logger = logging.getLogger(__name__)

POLL_CONTEXT_SECONDS = 60
# Shared with the KPI reads' cached freshness (`dashboards.selectors.kpi_read_context`).
_FRESHNESS_KEY = FRESHNESS_CACHE_KEY


@dataclass(frozen=True)
class DashboardPoll:
    etag: str  # of the whole answer: unchanged widgets, unchanged answer (304)
    widgets: dict[int, str]  # widget id -> the ETag its partial has now


def _context_key(session_key: str, slug: str) -> str:
    # Per login session, not per user id: a session key is never reused, so no other login inherits the answer.
    digest = hashlib.sha256(f"{session_key}\x00{slug}".encode()).hexdigest()[:32]
    return f"dash:poll:context:v2:{digest}"


def _cache_get_many(keys: list[str], reads: CacheReads | None = None) -> dict:
    # The cache only saves work: without it the poll reads the database (dashboards/cache.py).
    return cache_reads(reads, keys, what="poll cache unavailable")


def poll_cache_keys(session_key: str, slug: str) -> list[str]:
    """The cache keys `dashboard_poll_for_user` reads (to read them with others: `CacheReads`)."""
    return [_context_key(session_key, slug), _FRESHNESS_KEY, FRESHNESS_POSITION_KEY]


def _cache_set(key: str, value, seconds: int) -> None:
    cache_set(key, value, seconds, what="poll cache unavailable: %s not cached")


def _context(user: User, slug: str, generation) -> dict:
    """What the poll needs to know of the dashboard and the caller; raises 404/403 as the pages do."""
    dashboard = dashboard_get_for_user(user, slug)
    widgets = Widget.objects.filter(dashboard=dashboard).only("pk", "data_source", "updated_at")
    return {
        "generation": generation,
        "scope_key": user_row_scope(user).cache_key(),
        "widgets": [(w.pk, w.view_name, w.updated_at.isoformat() if w.updated_at else "") for w in widgets],
    }


def _freshness() -> dict[str, dict]:
    """Every KPI view's freshness, read where dashboards read it (the standby when there is one)."""
    return kpi_views_freshness(list(KPI_VIEWS), using=REPLICA if replica_configured() else PRIMARY)


_UNKNOWN = {"refreshed_at": None, "is_stale": True, "last_error": ""}


def dashboard_poll_for_user(
    *, user: User, session_key: str, slug: str, filters_key: str, reads: CacheReads | None = None
) -> DashboardPoll:
    """The ETag of each widget of the dashboard as the user would get it now (404/403 as `dashboard_get_for_user`).

    An access check is cached only once it succeeded: an outsider pays the full check on every poll.
    `session_key`: the caller's login session (the cache is per session). `reads`: the request's cache reads made
    ahead (`poll_cache_keys`), else one of its own.
    """
    key = _context_key(session_key, slug)
    generation = access_generation(user)
    found = _cache_get_many(poll_cache_keys(session_key, slug), reads)
    context = found.get(key)
    if context is None or context["generation"] != generation:
        context = _context(user, slug, generation)
        _cache_set(key, context, POLL_CONTEXT_SECONDS)
    freshness = found.get(_FRESHNESS_KEY)
    names = {view for _, view, _ in context["widgets"]}
    names |= {KPI_VIEWS[v].undated for v in names if v in KPI_VIEWS and KPI_VIEWS[v].undated}
    if freshness is None or not names <= set(freshness):
        freshness = _freshness()
        freshness_cache_set(
            freshness, using=REPLICA if replica_configured() else PRIMARY, position=found.get(FRESHNESS_POSITION_KEY)
        )
    etags: dict[int, str] = {}
    for pk, view_name, updated in context["widgets"]:
        widget = Widget(pk=pk, updated_at=parse_datetime(updated) if updated else None)
        state = freshness.get(view_name) or _UNKNOWN
        view = KPI_VIEWS.get(view_name)
        # As the partial's: the freshness of the view of the revenue in no month its view mentions, too.
        also = (freshness.get(view.undated) or _UNKNOWN,) if view is not None and view.undated else ()
        etags[pk] = widget_etag(widget, state, scope_key=context["scope_key"], filters_key=filters_key, also=also)
    combined = hashlib.sha256("|".join(f"{pk}={tag}" for pk, tag in sorted(etags.items())).encode())
    return DashboardPoll(etag=f'"{combined.hexdigest()[:32]}"', widgets=etags)


def poll_freshness_invalidate() -> None:
    """A refresh recorded its state: the next poll or KPI read reads the freshness again. Dropped now and again after
    the commit: a freshness read between the two (the new state not visible yet) does not outlive the commit."""

    def drop() -> None:
        try:
            cache.delete(_FRESHNESS_KEY)
        except Exception:
            logger.warning("could not drop the cached freshness", exc_info=True)

    def committed() -> None:
        # Where the standby must be before a freshness read there is cached again (`freshness_cache_set`).
        if replica_configured():
            try:
                with connections[PRIMARY].cursor() as cursor:
                    cursor.execute("SELECT pg_current_wal_lsn()::text")
                    cache.set(FRESHNESS_POSITION_KEY, cursor.fetchone()[0], settings.READ_YOUR_WRITES_SECONDS)
            except Exception:
                logger.warning("could not remember the refresh's commit position", exc_info=True)
        drop()

    drop()
    transaction.on_commit(committed)
