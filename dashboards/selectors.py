"""Reads about dashboards and KPI data.

`dashboard_get_for_user` is the one access check for a dashboard (pages, API, export). `kpi_rows_for_user`
(with its batch form `widgets_data_for_user`) is THE one place that reads KPI views: it takes the caller's
scope from `accounts.selectors.user_row_scope`, adds it to the query, and runs the query as the KPI reader
role under row-level security (`dashboards.kpi.rls`). Nothing else in the project builds an access
predicate for KPI data.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import get_objects_for_user
from psycopg import errors as pg_errors
from psycopg import pq as psycopg_pq
from psycopg import sql
from psycopg.types.numeric import FloatLoader
from psycopg.types.string import TextLoader

from accounts.models import User
from accounts.selectors import RowScope, employee_subtree_ids, user_can_manage_data, user_row_scope
from dashboards.kpi.freshness import kpi_views_freshness  # the refresh engine's one staleness rule
from dashboards.kpi.registry import (
    KPI_VIEWS,
    TEAM_SNAPSHOTS,
    KpiView,
    aggregates_of,
    date_filter_column,
    get_view,
    team_aggregate_of,
)
from dashboards.kpi.rls import KPI_READER_ROLE, SETTING_ALL_ROWS, SETTING_EMPLOYEE_IDS, kpi_rls_ensure
from dashboards.models import Dashboard, Widget

logger = logging.getLogger(__name__)

NUMERIC_TYPES = {"money", "integer", "number"}
MAX_ROWS = 5000
CACHE_SECONDS = 300
# Memory a KPI read may hash in, for its transaction only. With the server's default (4 MB) a manager's top
# products (45k rows of top_products grouped into 5,000 products at 1M orders, more at 10M) were sorted on disk
# for the grouping: 32 ms, against 16 ms hashed. A read groups at most a few tables' scoped rows.
READ_WORK_MEM = "16MB"


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
    """The user's permissions on one dashboard: owner and superusers all; others from guardian (user + groups)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    if user.is_superuser or (dashboard.owner_id is not None and dashboard.owner_id == user.pk):
        return {"view_dashboard", "change_dashboard"}
    return set(ObjectPermissionChecker(user).get_perms(dashboard))


def user_can_view_dashboard(user: User, dashboard: Dashboard) -> bool:
    return bool(_dashboard_perms(user, dashboard) & {"view_dashboard", "change_dashboard"})


def user_can_change_dashboard(user: User, dashboard: Dashboard) -> bool:
    return "change_dashboard" in _dashboard_perms(user, dashboard)


def user_can_share_dashboard(user: User, dashboard: Dashboard) -> bool:
    """Sharing hands out access: the owner and superusers only."""
    return getattr(user, "is_authenticated", False) and (
        user.is_superuser or (dashboard.owner_id is not None and dashboard.owner_id == user.pk)
    )


def user_can_create_dashboard(user: User) -> bool:
    return user_can_manage_data(user)


def dashboard_get_for_user(user: User, key: str | int, *, action: str = "view") -> Dashboard:
    """The dashboard by slug or id if the user may `action` ("view" or "change") it.

    404 when it does not exist; 403 when it exists but the user lacks the permission.
    """
    lookup = {"pk": int(key)} if str(key).isdigit() else {"slug": str(key)}
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


# --- Dashboard filters (date range, team / sales rep) ---------------------------------------------


@dataclass(frozen=True)
class DashboardFilters:
    """Filters chosen on a dashboard page and kept in its URL (?from=2024-01&to=2024-06&rep=5&team=5)."""

    date_from: date | None = None
    date_to: date | None = None
    rep: int | None = None
    team: int | None = None

    def as_query(self) -> dict[str, str]:
        out = {}
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.rep is not None:
            out["rep"] = str(self.rep)
        if self.team is not None:
            out["team"] = str(self.team)
        return out


def _parse_date(text: str, name: str, *, end: bool) -> date:
    """'2024-03-15' or '2024-03' (a month: its first day, or its last day for an end date)."""
    try:
        if len(text) == 7:
            first = date.fromisoformat(text + "-01")
            if not end:
                return first
            return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{name}={text!r} is not a date: use YYYY-MM-DD or YYYY-MM") from None


def _parse_id(text: str, name: str) -> int:
    if not text.isdigit():
        raise ValidationError(f"{name}={text!r} is not an employee id")
    return int(text)


def dashboard_filters_parse(params) -> DashboardFilters:
    """Dashboard filters from query parameters; a clear ValidationError for a bad value."""
    raw = {k: (params.get(k) or "").strip() for k in ("from", "to", "rep", "team")}
    filters = DashboardFilters(
        date_from=_parse_date(raw["from"], "from", end=False) if raw["from"] else None,
        date_to=_parse_date(raw["to"], "to", end=True) if raw["to"] else None,
        rep=_parse_id(raw["rep"], "rep") if raw["rep"] else None,
        team=_parse_id(raw["team"], "team") if raw["team"] else None,
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationError("from must not be after to")
    return filters


# --- KPI reads: the one row-filtering function ----------------------------------------------------


@dataclass(frozen=True)
class KpiQuery:
    """What to read from one KPI view, every column allow-listed against the registry."""

    view: KpiView
    date_from: date | None = None
    date_to: date | None = None
    employee_ids: frozenset[int] | None = None  # narrowing chosen by the user; always intersected with scope
    group_by: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()  # summed per group
    order_by: tuple[str, ...] = ()  # "col" or "-col"
    limit: int = MAX_ROWS
    extra: dict = field(default_factory=dict, compare=False)

    def cache_part(self) -> str:
        payload = [
            self.view.name,
            self.date_from and self.date_from.isoformat(),
            self.date_to and self.date_to.isoformat(),
            sorted(self.employee_ids) if self.employee_ids is not None else None,
            self.group_by,
            self.measures,
            self.order_by,
            self.limit,
        ]
        return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()[:20]


def kpi_query_build(
    *, view_name: str, options: dict | None = None, filters: DashboardFilters | None = None, user: User | None = None
) -> KpiQuery:
    """Validate a widget's query options and the dashboard filters against the KPI registry.

    options: {"group_by": [...], "measures": [...], "order_by": ["-revenue"], "limit": 10}. Any column not
    declared by the view is refused with a specific message; nothing the user typed reaches SQL as text.
    """
    view = KPI_VIEWS.get(view_name)
    if view is None or getattr(view, "internal", False):
        known = ", ".join(sorted(v.name for v in kpi_views_for_picker()))
        raise ValidationError(f"unknown KPI view {view_name!r}; known views: {known}")
    options = dict(options or {})
    unknown = set(options) - {"group_by", "measures", "order_by", "limit"}
    if unknown:
        raise ValidationError(f"unknown query option(s) {', '.join(sorted(unknown))}")

    def columns(key: str) -> tuple[str, ...]:
        value = options.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError(f"{key} must be a list of column names")
        for name in value:
            if name.lstrip("-") not in view.columns:
                raise ValidationError(f"{key}: {name.lstrip('-')!r} is not a column of KPI view {view.name}")
        return tuple(value)

    group_by, measures, order_by = columns("group_by"), columns("measures"), columns("order_by")
    for name in measures:
        if view.columns[name] not in NUMERIC_TYPES:
            raise ValidationError(f"measures: {name!r} is not numeric and cannot be summed")
    if measures and not group_by:
        group_by = ()  # a grand total: one row
    if group_by or measures:
        output = set(group_by) | set(measures)
        for name in order_by:
            if name.lstrip("-") not in output:
                raise ValidationError(f"order_by: {name.lstrip('-')!r} is neither grouped nor a measure")
    limit = options.get("limit", MAX_ROWS)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_ROWS:
        raise ValidationError(f"limit must be an integer from 1 to {MAX_ROWS}")

    filters = filters or DashboardFilters()
    dated = date_filter_column(view) is not None
    narrowing: frozenset[int] | None = None
    if filters.rep is not None:
        narrowing = frozenset({filters.rep})
    if filters.team is not None:
        team = employee_subtree_ids(filters.team)
        narrowing = team if narrowing is None else narrowing & team
    return KpiQuery(
        view=view,
        date_from=filters.date_from if dated else None,
        date_to=filters.date_to if dated else None,
        employee_ids=narrowing if view.scope_column else None,
        group_by=group_by,
        measures=measures,
        order_by=order_by or tuple(c for c in view.default_order if not (group_by or measures) or c in group_by),
        limit=limit,
    )


def _where(
    view: KpiView, scope_ids: frozenset[int] | None, date_column: str | None, query: KpiQuery, alias: str = ""
) -> tuple[list[sql.Composable], list[Any]]:
    """The scope and date-range predicates on one relation (`alias`: its name in the FROM), and their values."""

    def column(name: str) -> sql.Composable:
        return sql.Identifier(alias, name) if alias else sql.Identifier(name)

    predicates: list[sql.Composable] = []
    params: list[Any] = []
    if scope_ids is not None:
        predicates.append(sql.SQL("{} = ANY(%s)").format(column(view.scope_column)))
        params.append(sorted(scope_ids))
    if date_column and query.date_from:
        predicates.append(sql.SQL("{} >= %s").format(column(date_column)))
        params.append(query.date_from)
    if date_column and query.date_to:
        predicates.append(sql.SQL("{} <= %s").format(column(date_column)))
        params.append(query.date_to)
    return predicates, params


def _and(predicates: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" AND ").join(predicates) if predicates else sql.SQL("TRUE")


def _dated_rollup(query: KpiQuery, scope_ids: frozenset[int] | None) -> tuple[sql.Composable, list[Any]]:
    """A per-entity rollup (all time) restricted to the query's date range, shaped like the rollup's table.

    The rollup's rows are its month-partitioned helper summed over all months; within a date range they are
    the helper summed over the range's months, with the entity's attributes (name, country, ...) from the
    rollup's own row. Both tables are read under the same scope (and the same RLS wall).
    """
    view = query.view
    helper = get_view(view.rollup_of)
    keys = list(view.key)
    helper_where, params = _where(helper, scope_ids, helper.date_column, query)
    entity_where, entity_params = _where(view, scope_ids, None, query, alias="e")
    # Keys may be NULL (an order without a rep): 0 is no id, so COALESCE(key, 0) matches NULL with NULL.
    matches = sql.SQL(" AND ").join(
        sql.SQL("COALESCE(e.{0}, 0) = COALESCE(h.{0}, 0)").format(sql.Identifier(k)) for k in keys
    )
    columns = sql.SQL(", ").join(
        sql.SQL("{}.{}").format(sql.Identifier("h" if c in view.measures else "e"), sql.Identifier(c))
        for c in view.columns
    )
    source = sql.SQL(
        "(SELECT {columns} FROM (SELECT {keys}, {sums} FROM {helper} WHERE {helper_where} GROUP BY {keys}) h "
        "JOIN {table} e ON {matches} WHERE {entity_where}) AS {table}"
    ).format(
        columns=columns,
        keys=sql.SQL(", ").join(sql.Identifier(k) for k in keys),
        sums=sql.SQL(", ").join(sql.SQL("sum({0}) AS {0}").format(sql.Identifier(m)) for m in view.measures),
        helper=sql.Identifier(helper.name),
        helper_where=_and(helper_where),
        table=sql.Identifier(view.name),
        matches=matches,
        entity_where=_and(entity_where),
    )
    return source, params + entity_params


def kpi_aggregate_for(query: KpiQuery, scope_ids: frozenset[int] | None) -> KpiView | None:
    """A read-side aggregate of the query's view that answers it exactly (registry, "Read-side aggregates").

    It must hold every column the query groups by and sums; the date column when a date range is chosen; and
    the scope column unless the read is of every row (`scope_ids` None: an executive without a rep or team
    filter). Its rows are the view's summed over the columns it drops, so grouping and summing them gives what
    grouping and summing the view gives. Rows as they are (no grouping) always come from the view.
    """
    if not (query.group_by or query.measures):
        return None
    dated = bool(query.date_from or query.date_to)
    for aggregate in aggregates_of(query.view):
        if aggregate.team_of:  # read only for a scope that is one team (`kpi_team_aggregate_for`)
            continue
        dimensions = set(aggregate.columns) - set(aggregate.measures)
        if scope_ids is not None and aggregate.scope_column is None:
            continue
        if dated and aggregate.date_column is None:
            continue
        if set(query.group_by) <= dimensions and set(query.measures) <= set(aggregate.measures):
            return aggregate
    return None


def kpi_team_aggregate_for(query: KpiQuery, scope_ids: frozenset[int] | None) -> KpiView | None:
    """The view's team aggregate (registry, "Team aggregates") when it could answer the query: a scoped read (not
    every row) without a date range, grouping and summing only columns the team rows hold. Whether the scope IS a
    team is decided inside the read's statement (`_statement`), against the hierarchy the team rows were built with.
    """
    team = team_aggregate_of(query.view)
    if team is None or scope_ids is None or query.date_from or query.date_to:
        return None
    if not (query.group_by or query.measures):
        return None
    dimensions = set(team.columns) - set(team.measures) - {team.scope_column}
    if set(query.group_by) <= dimensions and set(query.measures) <= set(team.measures):
        return team
    return None


def _statement(query: KpiQuery, scope_ids: frozenset[int] | None) -> tuple[sql.Composed, list[Any]]:
    """SELECT for one KPI query. scope_ids None means every row; identifiers quoted, values bound.

    A read that a team aggregate could answer is one statement of two branches, of which exactly one runs: the
    team's rows when the employee ids are exactly the members of a team in the aggregate's hierarchy snapshot,
    else the usual read (each gate is a one-time filter: PostgreSQL does not start the branch it rules out). Found
    in the statement, not cached: the snapshot and the team rows are read in the same snapshot of the database, so
    a hierarchy rebuilt meanwhile can never pair one team's rows with another's members, and it stays one round
    trip. The team rows of a team are the per-rep rows of exactly its members summed (kept so by the refresh), so
    both branches give the same rows; anything else (a hierarchy changed since the snapshot, a ?rep= narrowing, a
    rep's own scope) matches no team and takes the usual read.
    """
    team = kpi_team_aggregate_for(query, scope_ids)
    if team is None:
        return _plain_statement(query, scope_ids)
    found = sql.SQL(
        "WITH kpi_team AS MATERIALIZED (SELECT team_id FROM {} WHERE aggregate_name = %s AND members = %s::bigint[]) "
    ).format(sql.Identifier(TEAM_SNAPSHOTS))
    # min(): two teams have the same members only in a cycle of bad data, and then the same rows.
    on_team = sql.SQL("{} = (SELECT min(team_id) FROM kpi_team)").format(sql.Identifier(team.scope_column))
    team_read, team_params = _select(query, sql.Identifier(team.name), [on_team], [], team)
    usual, usual_params = _plain_statement(query, scope_ids)
    # Each branch gated from outside: the gate stays above the branch's LIMIT (no qual enters a subquery with a
    # LIMIT), where a false one-time filter never starts the branch. Inside it, the gate would sit under a Gather:
    # the ruled-out per-rep branch of a VP's read launched its parallel workers (18 ms) to find nothing to do.
    # Outside, a sum without GROUP BY (one row even of no rows) is gated too.
    statement = found + sql.SQL(
        "SELECT * FROM ({}) AS kpi_team_read WHERE EXISTS (SELECT 1 FROM kpi_team) "
        "UNION ALL SELECT * FROM ({}) AS kpi_usual_read WHERE NOT EXISTS (SELECT 1 FROM kpi_team)"
    ).format(team_read, usual)
    return statement, [team.name, sorted(scope_ids), *team_params, *usual_params]


def _plain_statement(query: KpiQuery, scope_ids: frozenset[int] | None) -> tuple[sql.Composed, list[Any]]:
    """The read from the view, a read-side aggregate of it, or (dated) its rollup helper."""
    view = query.view
    aggregate = None
    if view.rollup_of and (query.date_from or query.date_to):
        source, params = _dated_rollup(query, scope_ids)
        predicates: list[sql.Composable] = []
    elif aggregate := kpi_aggregate_for(query, scope_ids):
        source = sql.Identifier(aggregate.name)
        predicates, params = _where(aggregate, scope_ids, aggregate.date_column, query)
    else:
        source = sql.Identifier(view.name)
        predicates, params = _where(view, scope_ids, view.date_column, query)
    return _select(query, source, predicates, params, aggregate)


def _select(
    query: KpiQuery,
    source: sql.Composable,
    predicates: list[sql.Composable],
    params: list[Any],
    aggregate: KpiView | None,
) -> tuple[sql.Composed, list[Any]]:
    """SELECT, GROUP BY, ORDER BY and LIMIT of a query over `source` (the view or `aggregate`) and `predicates`."""
    view = query.view
    # Grouping by an aggregate's whole key (a customer's id) groups nothing: its rows are read as they are,
    # ordered by the stored column, so an index on it gives the first rows of a ranking without a sort.
    one_row_per_group = False
    if aggregate is not None:
        # A team aggregate's team is fixed by the read: its entity alone is the key.
        key = set(aggregate.key) - ({aggregate.scope_column} if aggregate.team_of else set())
        one_row_per_group = key <= set(query.group_by)

    def money(expression: sql.Composable, name: str) -> sql.Composable:
        # KPI tables keep money exact (more than 2 decimals after discounts); callers get cents, rounded
        # after summing so a total is the rounded exact total.
        if view.columns[name] == "money":
            return sql.SQL("round({}, 2) AS {}").format(expression, sql.Identifier(name))
        return sql.SQL("{} AS {}").format(expression, sql.Identifier(name))

    if one_row_per_group:
        select = [money(sql.Identifier(c), c) for c in (*query.group_by, *query.measures)]
    elif query.group_by or query.measures:
        select = [money(sql.Identifier(c), c) for c in query.group_by] + [
            money(sql.SQL("sum({})").format(sql.Identifier(c)), c) for c in query.measures
        ]
    else:
        select = [money(sql.Identifier(c), c) for c in view.columns]
    statement = sql.SQL("SELECT {select} FROM {source} WHERE {where}").format(
        select=sql.SQL(", ").join(select), source=source, where=_and(predicates)
    )
    if query.group_by and not one_row_per_group:
        statement += sql.SQL(" GROUP BY {}").format(sql.SQL(", ").join(sql.Identifier(c) for c in query.group_by))
    if query.order_by:
        # The output column (rounded money) when grouping; the stored column (same order) when not.
        def ordered(name: str) -> sql.Composable:
            return sql.Identifier(aggregate.name, name) if one_row_per_group else sql.Identifier(name)

        statement += sql.SQL(" ORDER BY {}").format(
            sql.SQL(", ").join(
                sql.SQL("{} DESC NULLS LAST" if c.startswith("-") else "{} ASC NULLS LAST").format(
                    ordered(c.lstrip("-"))
                )
                for c in query.order_by
            )
        )
    statement += sql.SQL(" LIMIT %s")
    params.append(query.limit)
    return statement, params


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # money is numeric(14,2): exact in a double's 15 significant digits
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


_reader_role_exists: bool = False


def _reader_role_available(cursor) -> bool:
    global _reader_role_exists
    if not _reader_role_exists:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [KPI_READER_ROLE])
        _reader_role_exists = cursor.fetchone() is not None
    return _reader_role_exists


def _scoped_read(scope: RowScope, statements: list[tuple[sql.Composed, list[Any]]]) -> list[list[dict]]:
    """Run statements as the KPI reader role, with the scope set for the RLS policies, in ONE round trip.

    The role switch and the scope settings are transaction-local (`set_config(..., true)`), so they are
    sent with the reads as one multi-statement query: `BEGIN READ ONLY; <settings>; <reads>; COMMIT`.
    Django's psycopg cursor binds values on the client (psycopg quotes them; nothing is formatted by us),
    which is what allows several statements with parameters in one execute. Before this, a read cost
    seven round trips (BEGIN, SET ROLE, settings, the read, reset, RESET ROLE, COMMIT). Inside an outer
    transaction (tests, ATOMIC blocks) the read runs in a savepoint and resets the settings and role, which
    would otherwise outlive it until the outer transaction ends.
    """
    with connection.cursor() as cursor:
        as_reader = _reader_role_available(cursor)
        _reader_cursor(cursor)
        nested = connection.in_atomic_block
        setup = [
            sql.SQL("set_config({}, %s, true)").format(sql.Literal(name))
            for name in (SETTING_ALL_ROWS, SETTING_EMPLOYEE_IDS)
        ]
        setup.append(sql.SQL("set_config('work_mem', %s, true)"))
        setup_params: list[Any] = [
            "on" if scope.all_rows else "off",
            ",".join(str(i) for i in sorted(scope.employee_ids)),
            READ_WORK_MEM,
        ]
        if as_reader:
            setup.append(sql.SQL("set_config('role', %s, true)"))
            setup_params.append(KPI_READER_ROLE)
        parts: list[sql.Composable] = [] if nested else [sql.SQL("BEGIN READ ONLY")]
        parts.append(sql.SQL("SELECT ") + sql.SQL(", ").join(setup))
        params: list[Any] = list(setup_params)
        for statement, statement_params in statements:
            parts.append(statement)
            params += statement_params
        if nested:
            parts.append(
                sql.SQL("SELECT set_config({}, '', true), set_config({}, '', true)").format(
                    sql.Literal(SETTING_ALL_ROWS), sql.Literal(SETTING_EMPLOYEE_IDS)
                )
            )
            parts.append(sql.SQL("SET LOCAL work_mem TO DEFAULT"))
            if as_reader:
                parts.append(sql.SQL("RESET ROLE"))
        else:
            parts.append(sql.SQL("COMMIT"))
        script = sql.SQL("; ").join(parts)
        if nested:
            with transaction.atomic():
                cursor.execute(script, params)
                return _script_results(cursor, skip=1, count=len(statements))
        try:
            cursor.execute(script, params)
            return _script_results(cursor, skip=2, count=len(statements))
        except BaseException:
            # The script's own transaction failed half-way: end it before the connection is used again.
            if connection.connection.info.transaction_status != psycopg_pq.TransactionStatus.IDLE:
                cursor.execute("ROLLBACK")
            raise


# Result types that come out of the reader JSON-ready (see `_reader_cursor`); any other type is converted.
_JSON_READY_TYPES = {"numeric", "date", "int2", "int4", "int8", "float4", "float8", "text", "varchar", "bool"}


def _reader_cursor(cursor) -> None:
    """Make the cursor load rows JSON-ready: numeric as float, date as its ISO text.

    float(text) is the same correctly rounded double as float(Decimal(text)), and PostgreSQL prints dates
    as YYYY-MM-DD (DateStyle ISO, its default), which is `date.isoformat()`: the same values as converting
    after loading, without building a Decimal and a date per value and converting them again (a manager's
    monthly read is a thousand rows).
    """
    cursor.cursor.adapters.register_loader("numeric", FloatLoader)
    cursor.cursor.adapters.register_loader("date", TextLoader)


def _script_results(cursor, *, skip: int, count: int) -> list[list[dict]]:
    """The result sets of the `count` reads of a multi-statement query, after `skip` leading statements."""
    for _ in range(skip):
        cursor.nextset()
    types = cursor.connection.adapters.types
    results: list[list[dict]] = []
    for i in range(count):
        names = [d.name for d in cursor.description]
        kinds = [getattr(types.get(d.type_code), "name", None) for d in cursor.description]
        rows = cursor.fetchall()
        if all(kind in _JSON_READY_TYPES for kind in kinds):
            results.append([dict(zip(names, row, strict=True)) for row in rows])
        else:
            results.append([{n: _json_value(v) for n, v in zip(names, row, strict=True)} for row in rows])
        if i < count - 1:
            cursor.nextset()
    return results


def _effective_ids(scope: RowScope, query: KpiQuery) -> frozenset[int] | None | bool:
    """Employee ids to filter on (None: every row), or False when the caller may see nothing of this view."""
    if scope.is_empty:
        return False
    if not query.view.scope_column:
        return None if scope.all_rows else False  # a company-wide view: all-rows scopes only
    ids = None if scope.all_rows else scope.employee_ids
    if query.employee_ids is not None:
        ids = query.employee_ids if ids is None else ids & query.employee_ids
    if ids is not None and not ids:
        return False
    return ids


def kpi_freshness(view_name: str) -> dict:
    """{"refreshed_at", "is_stale", "last_error", ...} for a KPI view, from the refresh engine."""
    return kpi_freshness_many([view_name])[view_name]


def kpi_freshness_many(view_names) -> dict[str, dict]:
    """`kpi_view_freshness` for several views in one query (a dashboard reads up to a dozen views)."""
    return kpi_views_freshness(view_names)


def _cache_key(scope: RowScope, query: KpiQuery, refreshed_at: datetime | None) -> str:
    stamp = refreshed_at.isoformat() if refreshed_at else "never"
    return f"kpi:rows:v1:{query.view.name}:{scope.cache_key()}:{query.cache_part()}:{stamp}"


def _rows_for_scope(scope: RowScope, queries: list[KpiQuery], stamps: list[datetime | None]) -> list[list[dict]]:
    results: list[list[dict] | None] = [None] * len(queries)
    keys = [_cache_key(scope, q, s) for q, s in zip(queries, stamps, strict=True)]
    cached = cache.get_many(keys)
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
        try:
            fetched = _read_with_repair(scope, statements, [queries[i].view.name for i in pending])
        except DatabaseError as exc:
            if not isinstance(exc.__cause__, pg_errors.UndefinedTable):
                raise
            # A view not created yet (no refresh ran): read the others one by one, the missing ones are empty.
            fetched = []
            for i, statement in zip(pending, statements, strict=True):
                try:
                    fetched.append(_read_with_repair(scope, [statement], [queries[i].view.name])[0])
                except DatabaseError as inner:
                    if not isinstance(inner.__cause__, pg_errors.UndefinedTable):
                        raise
                    logger.warning("KPI view %s does not exist yet", queries[i].view.name)
                    fetched.append([])
        for i, rows in zip(pending, fetched, strict=True):
            results[i] = rows
        if len(pending) == 1:  # one SET with its expiry; set_many pipelines an MSET and an EXPIRE per key
            cache.set(keys[pending[0]], results[pending[0]], CACHE_SECONDS)
        else:
            cache.set_many({keys[i]: results[i] for i in pending}, CACHE_SECONDS)
    return results  # type: ignore[return-value]


def _read_with_repair(scope: RowScope, statements, view_names: list[str]) -> list[list[dict]]:
    try:
        return _scoped_read(scope, statements)
    except DatabaseError as exc:
        if not isinstance(exc.__cause__, pg_errors.InsufficientPrivilege):
            raise
        # A KPI table (re)created since the last policy pass: put the policy and grant on it, then retry. A read
        # may also touch the view's rollup helper (a date range) or one of its aggregates: those too.
        tables = []
        for name in view_names:
            view = KPI_VIEWS.get(name)
            related = [view.rollup_of] if view and view.rollup_of else []
            related += [a.name for a in aggregates_of(view)] if view else []
            related += [TEAM_SNAPSHOTS] if view and team_aggregate_of(view) else []
            tables += [t for t in (name, *related) if t not in tables]
        kpi_rls_ensure(tables)
        return _scoped_read(scope, statements)


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
    scope = scope if scope is not None else user_row_scope(user)
    return _rows_for_scope(scope, [query], [kpi_freshness(view_name)["refreshed_at"]])[0]


@dataclass
class WidgetData:
    widget: Widget
    rows: list[dict]
    freshness: dict
    error: str = ""
    previous_rows: list[dict] | None = None


def widget_query(widget: Widget, filters: DashboardFilters) -> KpiQuery:
    return kpi_query_build(view_name=widget.view_name, options=widget.query_options, filters=filters)


def previous_period(filters: DashboardFilters) -> DashboardFilters | None:
    """The period just before the filtered one, of the same length (for "change vs previous period")."""
    if not (filters.date_from and filters.date_to):
        return None
    start, end = filters.date_from, filters.date_to
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        # Whole months (KPI views are mostly monthly): the same number of months just before.
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        index = start.year * 12 + start.month - 1 - months
        previous_start = date(index // 12, index % 12 + 1, 1)
        previous_end = start - timedelta(days=1)
    else:
        previous_end = start - timedelta(days=1)
        previous_start = start - (end - start + timedelta(days=1))
    return DashboardFilters(date_from=previous_start, date_to=previous_end, rep=filters.rep, team=filters.team)


def widgets_data_for_user(
    *,
    user: User,
    widgets: list[Widget],
    filters: DashboardFilters,
    scope: RowScope | None = None,
    freshness: dict[str, dict] | None = None,
) -> list[WidgetData]:
    """Every widget's rows in one scoped read (the batch form of `kpi_rows_for_user`).

    `scope` and `freshness` (from `kpi_freshness_many`): pass them when the request has them already
    (the widget partial needs both for its ETag), so each is read once per request.
    """
    scope = scope if scope is not None else user_row_scope(user)
    if freshness is None or not {w.view_name for w in widgets} <= set(freshness):
        freshness = kpi_freshness_many(w.view_name for w in widgets)
    out: list[WidgetData] = []
    queries: list[KpiQuery] = []
    slots: list[tuple[WidgetData, str]] = []
    for widget in widgets:
        data = WidgetData(widget=widget, rows=[], freshness=freshness.get(widget.view_name, {}))
        out.append(data)
        try:
            queries.append(widget_query(widget, filters))
            slots.append((data, "rows"))
            previous = previous_period(filters) if widget.chart_type == Widget.ChartType.NUMBER else None
            if previous is not None:
                queries.append(widget_query(widget, previous))
                slots.append((data, "previous_rows"))
        except ValidationError as exc:
            data.error = "; ".join(exc.messages)
    stamps = [freshness[q.view.name]["refreshed_at"] for q in queries]
    for (data, attr), rows in zip(slots, _rows_for_scope(scope, queries, stamps), strict=True):
        setattr(data, attr, rows)
    return out


def kpi_views_for_picker() -> list[KpiView]:
    """Views dashboards may use (the refresh engine's helper views are internal)."""
    return sorted((v for v in KPI_VIEWS.values() if not getattr(v, "internal", False)), key=lambda v: v.name)
