"""Reads about dashboards and KPI data.

`dashboard_get_for_user` is the one access check for a dashboard (pages, API, export). `kpi_rows_for_user`
(with its batch form `widgets_data_for_user`) is THE one place that reads KPI views: it takes the caller's
scope from `accounts.selectors.user_row_scope`, narrows it in `_effective_ids` (the one row filter), and
runs the compiled query (`dashboards.kpi.query`) as the KPI reader role under row-level security
(`dashboards.kpi.read`, `dashboards.kpi.rls`). Nothing else in the project builds an access predicate for
KPI data.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, OperationalError
from django.db.models import Q, QuerySet
from django.http import Http404
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import get_objects_for_user
from psycopg import errors as pg_errors

from accounts.models import User
from accounts.selectors import (
    RowScope,
    access_generation,
    employees_visible_to,
    user_can_manage_data,
    user_row_scope,
)
from config.replica import PRIMARY, REPLICA, read_alias, replica_configured, replica_has_replayed
from dashboards.cache import CacheReads, cache_get, cache_get_many, cache_reads, cache_set, cache_set_many
from dashboards.filters import UNASSIGNED, DashboardFilters, previous_period
from dashboards.inflight import computed_once
from dashboards.kpi.drill import PAGE_ROWS, Drill, drill_build, drill_statements
from dashboards.kpi.freshness import kpi_views_freshness  # the refresh engine's one staleness rule
from dashboards.kpi.kept import kept_name, kept_serves, kept_statement, kept_view_for
from dashboards.kpi.query import (
    KpiQuery,
    kpi_query_build,
    kpi_statement,
)
from dashboards.kpi.question import Question, question_build, question_statement
from dashboards.kpi.read import ReadLimit, kpi_read_with_repair, read_stopped_reason
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.kpi.rls import ScopeIds, kpi_scope_ensure
from dashboards.models import Dashboard, Widget

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300
# Every KPI view's freshness, read where dashboards read it (the standby when there is one), dropped when a refresh
# records its state (`dashboards.polling.poll_freshness_invalidate`).
FRESHNESS_CACHE_KEY = "dash:poll:freshness:v1"
FRESHNESS_CACHE_SECONDS = 5
# The primary's WAL position after the last refresh recorded its state (`dashboards.polling.poll_freshness_invalidate`):
# a freshness read on a standby that has not replayed it is the state before that refresh, and is not cached.
FRESHNESS_POSITION_KEY = "dash:poll:freshness-lsn:v1"
SCOPE_CACHE_SECONDS = 60


# --- Dashboards: who may see and change them -----------------------------------------------------


def dashboards_for_user(user: User) -> QuerySet[Dashboard]:
    """Dashboards the user may view: owned, or shared with them or their groups (guardian); superusers all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Dashboard.objects.none()
    if user.is_superuser:
        return Dashboard.objects.all()
    shared = get_objects_for_user(
        user,
        ["dashboards.view_dashboard", "dashboards.change_dashboard"],
        klass=Dashboard,
        any_perm=True,
        accept_global_perms=False,
    )
    return Dashboard.objects.filter(Q(owner=user) | Q(pk__in=shared.values("pk"))).distinct()


def _dashboard_perms(user: User, dashboard: Dashboard) -> set[str]:
    """The user's permissions on one dashboard: owner and superusers all; others from guardian (user + groups).

    Kept on the dashboard instance for that user: a request that checks access, then whether the caller may change
    it (a page, a widget partial), asks guardian once (two queries), not once per check. The instance lives for the
    request that loaded it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.is_superuser or (dashboard.owner_id is not None and dashboard.owner_id == user.pk):
        return {"view_dashboard", "change_dashboard"}
    kept = getattr(dashboard, "_perms_of_user", None)
    if kept is not None and kept[0] == user.pk:
        return set(kept[1])
    perms = set(ObjectPermissionChecker(user).get_perms(dashboard))
    dashboard._perms_of_user = (user.pk, frozenset(perms))
    return perms


def user_can_view_dashboard(user: User, dashboard: Dashboard) -> bool:
    return bool(_dashboard_perms(user, dashboard) & {"view_dashboard", "change_dashboard"})


def user_can_change_dashboard(user: User, dashboard: Dashboard) -> bool:
    return "change_dashboard" in _dashboard_perms(user, dashboard)


def user_can_share_dashboard(user: User, dashboard: Dashboard) -> bool:
    """Sharing hands out access: the owner and superusers only."""
    return getattr(user, "is_authenticated", False) and (
        user.is_superuser or (dashboard.owner_id is not None and dashboard.owner_id == user.pk)
    )


def user_can_create_dashboard(user: User, scope: RowScope | None = None) -> bool:
    """Every role with a row scope (executives, analysts, managers, reps) may own dashboards, and the data
    roles may; what a dashboard shows is still each reader's own rows, and only its owner shares it."""
    if user_can_manage_data(user):
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return not (scope if scope is not None else user_row_scope(user)).is_empty


def dashboard_get_for_user(user: User, key: str | int, *, action: str = "view") -> Dashboard:
    """The dashboard by id (an int: the API) or slug (a str: the pages) if the user may `action` it.

    404 when it does not exist; 403 when it exists but the user lacks the permission. A str is always a
    slug, even all digits: a dashboard titled "2" has the slug "2" and must not be found as pk 2.
    """
    lookup = {"pk": key} if isinstance(key, int) else {"slug": str(key)}
    try:
        dashboard = Dashboard.objects.select_related("owner").get(**lookup)
    except Dashboard.DoesNotExist:
        raise Http404("No such dashboard") from None
    perms = _dashboard_perms(user, dashboard)
    needed = {"change_dashboard"} if action == "change" else {"view_dashboard", "change_dashboard"}
    if not perms & needed:
        raise PermissionDenied(f"You may not {action} this dashboard.")
    return dashboard


def widget_get_for_user(user: User, dashboard: Dashboard, widget_id: int | str) -> Widget:
    """A widget of a dashboard the caller was already allowed to see (by `dashboard_get_for_user`)."""
    try:
        return dashboard.widgets.get(pk=int(widget_id))
    except (Widget.DoesNotExist, ValueError, TypeError):
        raise Http404("No such widget") from None


VIEWING_CACHE_SECONDS = 60


@dataclass(frozen=True)
class DashboardViewing:
    """A dashboard the user may view, its widgets in page order and whether the user may change it."""

    dashboard: Dashboard
    widgets: list[Widget]

    def widget(self, widget_id: int | str) -> Widget:
        """One of its widgets (404 when it has no such widget), as `widget_get_for_user`."""
        try:
            wanted = int(widget_id)
        except (ValueError, TypeError):
            raise Http404("No such widget") from None
        found = next((w for w in self.widgets if w.pk == wanted), None)
        if found is None:
            raise Http404("No such widget")
        return found


def _viewing_key(user: User, slug: str) -> str:
    digest = hashlib.sha256(f"{user.pk}\x00{slug}".encode()).hexdigest()[:32]
    return f"dash:viewing:v1:{digest}"


def viewing_cache_keys(user: User, slug: str) -> list[str]:
    """The cache keys `dashboard_viewing_for_user(user, slug)` reads (to read them with others: `CacheReads`)."""
    return [_viewing_key(user, slug)]


def dashboard_viewing_for_user(user: User, slug: str, *, reads: CacheReads | None = None) -> DashboardViewing:
    """`dashboard_get_for_user(user, slug)` with its widgets, for the read-only pages a viewer opens again and again
    (the page, each widget partial): cached per user and dashboard under the access generation, which every change
    of roles, shares, dashboards, widgets or the user bumps in its own transaction (PostgreSQL triggers,
    `accounts.selectors.access_generation`), as the poll's context and the KPI reads' scope are. A refused
    or missing dashboard is never cached: 403/404 cost the full check every time. The generation is read BEFORE the
    check, so a check made before a change is stored under the generation before it and never served after the
    bump. `reads`: the request's cache reads made ahead (`viewing_cache_keys`), else one of its own."""
    key = _viewing_key(user, slug)
    generation = access_generation(user)
    entry = cache_reads(reads, [key]).get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == generation:
        return entry[1]
    dashboard = dashboard_get_for_user(user, slug)
    viewing = DashboardViewing(dashboard=dashboard, widgets=list(dashboard.widgets.all()))
    user_can_change_dashboard(user, dashboard)  # kept on the instance (`_dashboard_perms`): cached with it
    cached = copy.copy(dashboard)
    if dashboard.owner is not None:  # the page shows the owner's name: never put a password hash in the cache
        cached.owner = copy.copy(dashboard.owner)
        cached.owner.password = ""
    cache_set(key, (generation, dataclasses.replace(viewing, dashboard=cached)), VIEWING_CACHE_SECONDS)
    return viewing


# --- KPI reads: the one row-filtering function ----------------------------------------------------


def _effective_ids(scope: RowScope, query: KpiQuery | Question | Drill) -> frozenset[int] | None | bool:
    """Employee ids to filter on (None: every row), or False when the caller may see nothing of this view.

    A question (`dashboards.kpi.question`) is filtered here too, exactly as a widget's KPI query."""
    if scope.is_empty:
        return False
    if not query.view.scope_column:
        return None if scope.all_rows else False  # a company-wide view: all-rows scopes only
    ids = None if scope.all_rows else scope.employee_ids
    if query.employee_ids is not None:
        # Rows with no rep (UNASSIGNED) belong to nobody's team: only an all-rows scope may choose them.
        ids = query.employee_ids if ids is None else ids & (query.employee_ids - {UNASSIGNED})
    elif ids is not None and len(ids) > 1:
        # The whole scope: the statement names it as stored with the read's scope key, not by its ids (a VP's 875).
        # One id stays an id: `= %s` gives a rep's rows in index order (dashboards.kpi.query._where).
        return ScopeIds(ids)
    if ids is not None and not ids:
        return False
    return ids


@dataclass(frozen=True)
class ReadContext:
    """What a KPI read needs besides its query: the caller's scope, the views' freshness and the alias to read on."""

    scope: RowScope
    freshness: dict[str, dict]
    using: str


def _scope_key(user: User) -> str:
    return f"dash:scope:v3:{user.pk}"


def _read_context_keyed(user: User) -> bool:
    """Whether the user's scope is cached (`kpi_read_context`): signed-in, active, not a superuser."""
    return getattr(user, "is_authenticated", False) and user.is_active and not user.is_superuser


def read_context_cache_keys(user: User) -> list[str]:
    """The cache keys `kpi_read_context(user=user, ...)` reads (to read them with others: `CacheReads`)."""
    return [FRESHNESS_CACHE_KEY, FRESHNESS_POSITION_KEY] + ([_scope_key(user)] if _read_context_keyed(user) else [])


def kpi_read_context(*, user: User, view_names, reads: CacheReads | None = None) -> ReadContext:
    """The caller's scope and the views' freshness, from the cache when it holds them (one round trip to Redis
    instead of two queries), else read (and cached).

    The scope (`user_row_scope`) is cached per user under the access generation (`accounts.selectors.
    access_generation`), which PostgreSQL triggers bump with every change of roles, the hierarchy or the user, however
    written (a raw QuerySet.update() included): the generation is read BEFORE the scope (with the request's user), so
    a scope read before a change is stored under the generation before it and never served after. The freshness is
    the one the live polls cache (every view, 5 s, dropped when a refresh commits), used only when this user reads
    where it was read (a user waiting for the standby to replay their upload reads the primary's).
    `reads`: the request's cache reads made ahead (`read_context_cache_keys`), else one of its own.
    """
    names = list(view_names)
    using = read_alias(user)
    shared_alias = REPLICA if replica_configured() else PRIMARY
    keyed = _read_context_keyed(user)
    generation = access_generation(user) if keyed else 0
    found = cache_reads(reads, read_context_cache_keys(user))
    entry = found.get(_scope_key(user)) if keyed else None
    if isinstance(entry, tuple | list) and len(entry) == 4 and entry[0] == generation:
        scope = RowScope(all_rows=bool(entry[1]), employee_ids=frozenset(entry[2]))
        if entry[3]:  # the ids' digest, kept with them: a VP's 875 ids are not sorted and hashed again per request
            scope = scope.with_ids_digest(entry[3])
    else:
        scope = user_row_scope(user)
        kpi_scope_ensure(scope)  # its reads name it by its key (dashboards.kpi.rls)
        if keyed:
            digest = scope.ids_digest() if scope.employee_ids else ""
            entry = (generation, scope.all_rows, sorted(scope.employee_ids), digest)
            cache_set(_scope_key(user), entry, SCOPE_CACHE_SECONDS)
    freshness = found.get(FRESHNESS_CACHE_KEY) if using == shared_alias else None
    if not isinstance(freshness, dict) or not set(names) <= set(freshness):
        if using == shared_alias:
            freshness = kpi_freshness_many(list(KPI_VIEWS), using=using)
            freshness_cache_set(freshness, using=using, position=found.get(FRESHNESS_POSITION_KEY))
        else:
            freshness = kpi_freshness_many(names, using=using)
    return ReadContext(scope=scope, freshness=freshness, using=using)


def freshness_cache_set(freshness: dict[str, dict], *, using: str, position: str | None) -> None:
    """Cache every view's freshness for FRESHNESS_CACHE_SECONDS, unless it was read on a standby that had not
    replayed `position` (FRESHNESS_POSITION_KEY, read before the freshness): the state before the last refresh,
    which would be served for seconds after the standby caught up (and with it, rows cached under the old stamp)."""
    if using == REPLICA and position:
        try:
            if not replica_has_replayed(position):
                return
        except DatabaseError:
            return
    cache_set(FRESHNESS_CACHE_KEY, freshness, FRESHNESS_CACHE_SECONDS)


def kpi_freshness(view_name: str, *, using: str = PRIMARY) -> dict:
    """{"refreshed_at", "is_stale", "last_error", ...} for a KPI view, from the refresh engine."""
    return kpi_freshness_many([view_name], using=using)[view_name]


def kpi_freshness_many(view_names, *, using: str = PRIMARY) -> dict[str, dict]:
    """`kpi_view_freshness` for several views in one query (a dashboard reads up to a dozen views).

    `using`: `read_alias(user)` for what a user's dashboard shows; a standby that cannot answer falls back to
    the primary."""
    names = list(view_names)
    try:
        return kpi_views_freshness(names, using=using)
    except OperationalError:
        if using == PRIMARY:
            raise
        logger.warning("standby read failed: reading freshness from the primary", exc_info=True)
        return kpi_views_freshness(names, using=PRIMARY)


def _statement(query: KpiQuery | Question, ids: frozenset[int] | None):
    if isinstance(query, Question):
        if kept_serves(query):
            return kept_statement(query, ids)
        return question_statement(query, ids)
    return kpi_statement(query, ids)


def _cache_key(scope: RowScope, query: KpiQuery | Question, refreshed_at: datetime | None) -> str:
    stamp = refreshed_at.isoformat() if refreshed_at else "never"
    return f"kpi:rows:v1:{query.view.name}:{scope.cache_key()}:{query.cache_part()}:{stamp}"


# How long the pickers' options of a scope are kept: the access generation covers the hierarchy (ids, managers), not
# a renamed employee, whose old name the pickers may show this long.
PICKER_CACHE_SECONDS = 60


def employee_picker_key(user: User, scope: RowScope) -> str:
    """The cache key of the pickers' options `employee_picker_options(user, scope)` reads."""
    return f"dashboards:pickers:{scope.cache_key()}:{access_generation(user)}"


def employee_picker_options(user: User, scope: RowScope, *, reads: CacheReads | None = None) -> str:
    """The <option>s of a dashboard page's rep and team pickers (every employee whose rows `user` may see, none
    selected: `presenters.option_selected`), kept per scope under the access generation. An executive's page at
    10M orders lists 5,000 employees in both pickers: reading and escaping them made most of the page's time.
    `reads`: the request's cache reads made ahead (`employee_picker_key`), else one of its own."""
    from dashboards.presenters import employee_options

    key = employee_picker_key(user, scope)
    kept = cache_reads(reads, [key]).get(key)
    if isinstance(kept, str):
        return kept

    def build() -> str:
        employees = [
            (pk, name or external_id)
            for pk, name, external_id in employees_visible_to(user, scope).values_list("pk", "name", "external_id")
        ]
        options = str(employee_options(employees, None))
        cache_set(key, options, PICKER_CACHE_SECONDS)
        return options

    # Pages of the same scope opened at once wait for one build in this process (the key is the cache's).
    options, _ = computed_once(key, build)
    return options if options is not None else build()


def kept_partials_get(keys: list[str], *, reads: CacheReads | None = None) -> dict[str, str]:
    """Widget partials' HTML kept under these keys (`views.widget_partial`): those found (none when the cache is
    down). `reads`: the request's cache reads made ahead, else one of its own."""
    return cache_reads(reads, keys) if keys else {}


def kept_partial_set(key: str, html: str, seconds: int) -> None:
    cache_set(key, html, seconds)


def _cache_set_many(entries: dict[str, list[dict]]) -> None:
    cache_set_many(entries, CACHE_SECONDS)


def _rows_for_scope(
    scope: RowScope,
    queries: list[KpiQuery | Question],
    stamps: list[datetime | None],
    *,
    using: str = PRIMARY,
    limit: ReadLimit | None = None,
) -> list[list[dict]]:
    results: list[list[dict] | None] = [None] * len(queries)
    keys = [_cache_key(scope, q, s) for q, s in zip(queries, stamps, strict=True)]
    cached = cache_get_many(keys)
    pending: list[int] = []
    for i, (query, key) in enumerate(zip(queries, keys, strict=True)):
        if key in cached:
            results[i] = cached[key]
            continue
        ids = _effective_ids(scope, query)
        if ids is False:
            results[i] = []
        else:
            pending.append(i)
    if pending:
        statements = [_statement(queries[i], _effective_ids(scope, queries[i])) for i in pending]
        names = [queries[i].view.name for i in pending]
        try:
            fetched = _read_or_primary(scope, statements, names, using=using, limit=limit)
        except DatabaseError as exc:
            if not isinstance(exc.__cause__, pg_errors.UndefinedTable):
                raise
            # A view not created yet (no refresh ran): read the others one by one, the missing ones are empty.
            fetched = []
            for statement, name in zip(statements, names, strict=True):
                try:
                    fetched.append(_read_or_primary(scope, [statement], [name], using=using, limit=limit)[0])
                except DatabaseError as inner:
                    if not isinstance(inner.__cause__, pg_errors.UndefinedTable):
                        raise
                    logger.warning("KPI view %s does not exist yet", name)
                    fetched.append([])
        for i, rows in zip(pending, fetched, strict=True):
            results[i] = rows
        _cache_set_many({keys[i]: results[i] for i in pending})
    return results  # type: ignore[return-value]


def _read_or_primary(
    scope: RowScope, statements, names: list[str], *, using: str, limit: ReadLimit | None = None
) -> list[list[dict]]:
    """The scoped read on `using`; a standby that is down or cancels the read (a recovery conflict) is not an
    error for the viewer: the primary answers instead. A limited read stopped (its time, or its user) is not retried."""
    try:
        return kpi_read_with_repair(scope, statements, names, using=using, limit=limit)
    except OperationalError as exc:
        if using == PRIMARY or (limit is not None and read_stopped_reason(exc)):
            raise
        logger.warning("standby read failed: reading KPI rows from the primary", exc_info=True)
        return kpi_read_with_repair(scope, statements, names, using=PRIMARY, limit=limit)


def kpi_rows_for_user(
    *,
    user: User,
    view_name: str,
    options: dict | None = None,
    filters: DashboardFilters | None = None,
    scope: RowScope | None = None,
) -> list[dict]:
    """Rows of one KPI view the user may see, with the dashboard filters and the widget's query options.

    The caller's RowScope (accounts.selectors.user_row_scope) is added here and nowhere else; a cached
    result is keyed by the scope, so it is never served to a user with a different scope. `scope`: the
    user's scope when the caller resolved it already in this request (it must be `user_row_scope(user)`).
    """
    query = kpi_query_build(view_name=view_name, options=options, filters=filters)
    context = kpi_read_context(user=user, view_names=[view_name])
    scope = scope if scope is not None else context.scope
    stamp = context.freshness[view_name]["refreshed_at"]
    return _rows_for_scope(scope, [query], [stamp], using=context.using)[0]


@dataclass
class WidgetData:
    widget: Widget
    rows: list[dict]
    freshness: dict
    error: str = ""
    previous_rows: list[dict] | None = None
    # Revenue in no month that the caller may see (the view's `undated`): {"revenue", "order_count", "line_count"}.
    undated: dict | None = None


UNDATED_MEASURES = ("revenue", "order_count", "line_count")


def widget_views(widgets: list[Widget]) -> list[str]:
    """The KPI views the widgets read: their own, and the views of the revenue in no month their views mention."""
    names = [w.view_name for w in widgets]
    for widget in widgets:
        view = KPI_VIEWS.get(widget.view_name)
        if view is not None and view.undated and view.undated not in names:
            names.append(view.undated)
    return names


def widget_query(widget: Widget, filters: DashboardFilters) -> KpiQuery | Question:
    """The widget's read: its KPI query options, or the question saved in it (`question_save`)."""
    options = widget.query_options
    if "question" in options:
        question = question_build(payload=options["question"], filters=filters)
        # The summary named must be this question's own (an edited question, or options typed in the widget
        # editor, read their source instead).
        name = options.get("kept")
        kept = kept_view_for(name) if isinstance(name, str) and name == kept_name(question) else None
        return dataclasses.replace(question, kept=kept) if kept is not None else question
    return kpi_query_build(view_name=widget.view_name, options=options, filters=filters)


def user_can_ask_questions(user: User, scope: RowScope | None = None) -> bool:
    """Questions read KPI rows: anyone whose scope holds rows (not an outsider, not the Admin role)."""
    scope = scope if scope is not None else user_row_scope(user)
    return not scope.is_empty


def question_rows_for_user(*, user: User, question: Question, scope: RowScope | None = None) -> list[dict]:
    """The rows of a question the user may see: the same row filter, RLS wall and cache as every KPI read."""
    context = kpi_read_context(user=user, view_names=[question.view.name])
    scope = scope if scope is not None else context.scope
    stamp = context.freshness[question.view.name]["refreshed_at"]
    return _rows_for_scope(scope, [question], [stamp], using=context.using)[0]


class PreviewStopped(Exception):
    """A question's preview stopped before it answered: it took longer than the limit ("timeout"), or its user
    cancelled it ("cancelled"). `message` says what to do."""

    def __init__(self, reason: str, limit_ms: int):
        self.reason, self.limit_ms = reason, limit_ms
        if reason == "timeout":
            message = (
                f"This preview took longer than {limit_ms / 1000:g} s and was stopped. Narrow it with a filter (a "
                "shorter date range, one team or rep, fewer groups), or save it and keep it ready: a question kept "
                "ready reads its own summary in milliseconds."
            )
        else:
            message = "Preview cancelled: change the question, or press Preview to run it again."
        super().__init__(message)
        self.message = message


# How long a Cancel is remembered for a preview that has not reached the database yet (a run id is used once).
PREVIEW_CANCEL_SECONDS = 600


def preview_cancel_key(*, user_id: int, run: str) -> str:
    """Where `question_preview_cancel` records a Cancel of the user's preview `run` (per user: nobody else's)."""
    return f"q:preview:cancelled:v1:{int(user_id)}:{run}"


def preview_cancelled(*, user_id: int, run: str) -> bool:
    """Whether the user cancelled the preview `run` (`question_preview_cancel`). Without the cache: not cancelled (the
    Cancel still stops a query it finds running)."""
    if not run:
        return False
    key = preview_cancel_key(user_id=user_id, run=run)
    return bool(cache_get(key, False, what="cache unavailable: a preview's Cancel is not checked"))


def question_preview_for_user(
    *, user: User, question: Question, scope: RowScope | None = None, run: str = ""
) -> list[dict]:
    """`question_rows_for_user` for a preview: stopped after `settings.QUESTION_PREVIEW_LIMIT_MS`, and by its user
    (`question_preview_cancel` with the same `run`, a 32-hex-digit id the page chose). Raises PreviewStopped.

    A Cancel may reach the server before its preview's query does (the request still on its way): it is recorded
    first, and checked right before the read (nothing is run) and again after it (a Cancel that came between the
    check and the query's start found nothing running to stop: its answer is dropped). A Cancel while the query runs
    stops it on the server (`read_cancel`, by the marker the script opens with)."""
    limit = ReadLimit(ms=settings.QUESTION_PREVIEW_LIMIT_MS, user_id=user.pk, run=run)
    if preview_cancelled(user_id=user.pk, run=run):
        raise PreviewStopped("cancelled", limit.ms)
    context = kpi_read_context(user=user, view_names=[question.view.name])
    scope = scope if scope is not None else context.scope
    stamp = context.freshness[question.view.name]["refreshed_at"]
    try:
        rows = _rows_for_scope(scope, [question], [stamp], using=context.using, limit=limit)[0]
    except OperationalError as exc:
        reason = read_stopped_reason(exc)
        if reason is None:
            raise
        raise PreviewStopped(reason, limit.ms) from None
    if preview_cancelled(user_id=user.pk, run=run):
        raise PreviewStopped("cancelled", limit.ms)
    return rows


def question_read_ms(*, user: User, question: Question, scope: RowScope | None = None) -> float:
    """How long the question's live read takes for the user, uncached: a slower one is offered to be kept ready.
    A read still running at the preview limit is stopped there: the limit is returned."""
    scope = scope if scope is not None else user_row_scope(user)
    ids = _effective_ids(scope, question)
    if ids is False:
        return 0.0
    limit = ReadLimit(ms=settings.QUESTION_PREVIEW_LIMIT_MS)
    started = time.perf_counter()
    try:
        kpi_read_with_repair(scope, [question_statement(question, ids)], [question.view.name], limit=limit)
    except OperationalError as exc:
        if read_stopped_reason(exc) is None:
            raise
        return float(limit.ms)
    return round((time.perf_counter() - started) * 1000, 1)


def widgets_data_for_user(
    *,
    user: User,
    widgets: list[Widget],
    filters: DashboardFilters,
    scope: RowScope | None = None,
    freshness: dict[str, dict] | None = None,
    using: str | None = None,
    shown_rows: int | None = None,
) -> list[WidgetData]:
    """Every widget's rows in one scoped read (the batch form of `kpi_rows_for_user`).

    `scope` and `freshness` (from `kpi_freshness_many`): pass them when the request has them already
    (the widget partial needs both for its ETag), so each is read once per request; `using` then is the alias
    the freshness was read from (`read_alias(user)`, the default). `shown_rows`: a page draws at most this many
    rows of a table widget, so its read asks for one more (enough to say the table was cut), not the thousands
    an export reads (an executive's Rep performance at 10M orders: 1,120 names).
    """
    if scope is None or freshness is None or not set(widget_views(widgets)) <= set(freshness):
        context = kpi_read_context(user=user, view_names=widget_views(widgets))
        scope = scope if scope is not None else context.scope
        if freshness is None or not set(widget_views(widgets)) <= set(freshness):
            freshness, using = context.freshness, context.using
    using = using or read_alias(user)
    out: list[WidgetData] = []
    queries: list[KpiQuery] = []
    slots: list[tuple[WidgetData, str]] = []
    for widget in widgets:
        data = WidgetData(widget=widget, rows=[], freshness=freshness.get(widget.view_name, {}))
        out.append(data)
        try:
            query = widget_query(widget, filters)
            if shown_rows is not None and widget.chart_type == Widget.ChartType.TABLE and isinstance(query, KpiQuery):
                query = dataclasses.replace(query, limit=min(query.limit, shown_rows + 1))
            queries.append(query)
            slots.append((data, "rows"))
            previous = previous_period(filters) if widget.chart_type == Widget.ChartType.NUMBER else None
            if previous is not None:
                queries.append(widget_query(widget, previous))
                slots.append((data, "previous_rows"))
            undated = KPI_VIEWS[widget.view_name].undated if widget.view_name in KPI_VIEWS else None
            if undated and "question" not in widget.query_options:
                # The view has no date column: a date range does not narrow it (no month), the rep and team do.
                options = {"measures": list(UNDATED_MEASURES)}
                queries.append(kpi_query_build(view_name=undated, options=options, filters=filters))
                slots.append((data, "undated"))
        except ValidationError as exc:
            data.error = "; ".join(exc.messages)
    stamps = [freshness[q.view.name]["refreshed_at"] for q in queries]
    for (data, attr), rows in zip(slots, _rows_for_scope(scope, queries, stamps, using=using), strict=True):
        if attr == "undated":
            total = rows[0] if rows else {}
            rows = dict(total) if total.get("line_count") or total.get("revenue") else None
        setattr(data, attr, rows)
    return out


@dataclass
class DrillRows:
    """One page of the rows behind a widget (`widget_rows_for_user`)."""

    columns: list[str]
    rows: list[dict]
    row_count: int
    page: int
    has_next: bool
    drill: Drill | None = None


def widget_rows_for_user(
    *,
    user: User,
    widget: Widget,
    filters: DashboardFilters,
    field: str = "",
    value: str = "",
    page: int = 1,
    scope: RowScope | None = None,
) -> DrillRows:
    """The rows behind a widget (its source's rows under the caller's scope, the dashboard's and the question's
    filters, and a clicked value), a page at a time: the one row filter and the RLS wall as every KPI read.
    A bad click or page is a ValidationError naming it."""
    scope = scope if scope is not None else user_row_scope(user)
    drill = drill_build(query=widget_query(widget, filters), field=field, value=value, page=page)
    columns = list(drill.view.columns)
    ids = _effective_ids(scope, drill)
    if ids is False:
        return DrillRows(columns, [], 0, page, False, drill)
    rows, count = kpi_read_with_repair(scope, drill_statements(drill, ids), [drill.view.name])
    return DrillRows(columns, rows[:PAGE_ROWS], count[0]["row_count"], page, len(rows) > PAGE_ROWS, drill)
