"""KPI query compilation: a widget's options and the dashboard filters, checked against the registry, into SQL.

The statements take the employee ids to filter on from `dashboards.selectors` (the one place that decides
them from the caller's scope); here they only become a bound `= ANY(%s)` predicate, or, for the caller's whole scope
(`ScopeIds`), `= ANY` of the ids stored with the scope the read's transaction names (dashboards.kpi.rls).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from psycopg import sql

from accounts.models import User
from accounts.selectors import employee_subtree_ids
from dashboards.filters import UNASSIGNED, DashboardFilters
from dashboards.kpi.registry import (
    KPI_VIEWS,
    TEAM_SNAPSHOTS,
    KpiView,
    aggregates_of,
    all_time_membership_of,
    date_filter_column,
    distinct_counted_of,
    get_view,
    membership_of,
    stored_distinct,
    team_aggregate_of,
    team_stored_distinct,
)
from dashboards.kpi.rls import SCOPE_EMPLOYEE_IDS, SCOPE_MEMBERS_DIGEST, ScopeIds

NUMERIC_TYPES = {"money", "integer", "number"}
MAX_ROWS = 5000


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
    _check_distinct(view, group_by, measures)
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


def _check_distinct(view: KpiView, group_by: tuple[str, ...], measures: tuple[str, ...]) -> None:
    """A distinct count (registry `distinct`) is counted from the view's membership table: the read may group and
    sum only what that table holds."""
    counted = [m for m in measures if m in (view.distinct or {})]
    if not counted:
        return
    members = membership_of(view)
    dimensions = set(members.columns) - set(members.measures)
    allowed = set(members.measures) | set(view.distinct)
    for name in group_by:
        if name not in dimensions:
            raise ValidationError(
                f"group_by: {counted[0]!r} counts distinct entities and cannot be grouped by {name!r}"
            )
    for name in measures:
        if name not in allowed:
            raise ValidationError(f"measures: {counted[0]!r} counts distinct entities and cannot be read with {name!r}")


def _distinct_read(query: KpiQuery) -> KpiView | None:
    """The membership table a grouped read counts its distinct measures from, if it asks for one: without a date
    range the all-time one when it holds the read's groups (one row per group and entity, not one per month too)."""
    if not any(m in (query.view.distinct or {}) for m in query.measures):
        return None
    all_time = all_time_membership_of(query.view)
    read = set(query.group_by) | (set(query.measures) - set(query.view.distinct))
    if all_time is not None and not (query.date_from or query.date_to) and read <= set(all_time.columns):
        return all_time
    return membership_of(query.view)


def _distinct_counted_for(query: KpiQuery, scope_ids: frozenset[int] | None) -> KpiView | None:
    """A table storing exact distinct counts per row (registry `distinct_from`) that answers the read: no date range,
    every grouped column and measure its own, its scope column unless the read is of every row, and each grouped
    key column in its all-time membership table too (what a group of several rows is counted from)."""
    if query.date_from or query.date_to:
        return None
    for table in distinct_counted_of(query.view):
        stored = stored_distinct(table)
        if table.date_column is not None or not any(m in stored for m in query.measures):
            continue
        if scope_ids is not None and table.scope_column is None:
            continue
        dimensions = set(table.columns) - set(table.measures) - set(stored)
        members = get_view(table.distinct_from)
        keyed = set(query.group_by) & (set(table.key) - {table.scope_column})
        if (
            set(query.group_by) <= dimensions
            and set(query.measures) <= set(table.measures) | set(stored)
            and keyed <= set(members.columns)
        ):
            return table
    return None


def _stored_distinct_total(table: KpiView, query: KpiQuery, name: str) -> sql.Composable:
    """A distinct measure over a group of `table`'s rows: a group of one row is that row's stored count; a group of
    several (a manager's total over reps, reps sharing a name) is counted from the all-time membership table's rows
    of the group's rows: those of its employees (scope column), with its values of the grouped key columns."""
    spec = stored_distinct(table)[name]
    entity, where = (spec, None) if isinstance(spec, str) else (spec["of"], spec.get("where"))
    members = sql.Identifier(table.distinct_from)
    counted = sql.SQL("count(DISTINCT m.{})").format(sql.Identifier(entity))
    if where:
        counted += sql.SQL(" FILTER (WHERE m.{})").format(sql.Identifier(where))
    same = [
        sql.SQL("m.{0} IS NOT DISTINCT FROM kpi_rows.{0}").format(sql.Identifier(c))
        for c in query.group_by
        if c in table.key and c != table.scope_column
    ]

    def among(predicates: list[sql.Composable]) -> sql.Composable:
        return sql.SQL("(SELECT {} FROM {} m WHERE {})").format(counted, members, _and([*predicates, *same]))

    if table.scope_column is None:
        several = among([])
    else:
        scope = sql.Identifier(table.scope_column)
        # The employees' rows by the scope index; an employee id that is NULL (no rep) matches no `= ANY`.
        several = sql.SQL("CASE WHEN bool_or(kpi_rows.{0} IS NULL) THEN {1} ELSE {2} END").format(
            scope,
            among([sql.SQL("(m.{0} = ANY(array_agg(kpi_rows.{0})) OR m.{0} IS NULL)").format(scope)]),
            among([sql.SQL("m.{0} = ANY(array_agg(kpi_rows.{0}))").format(scope)]),
        )
    return sql.SQL("CASE WHEN count(*) = 1 THEN sum({}) ELSE {} END").format(sql.Identifier(name), several)


def _where(
    view: KpiView, scope_ids: frozenset[int] | None, date_column: str | None, query: KpiQuery, alias: str = ""
) -> tuple[list[sql.Composable], list[Any]]:
    """The scope and date-range predicates on one relation (`alias`: its name in the FROM), and their values."""

    def column(name: str) -> sql.Composable:
        return sql.Identifier(alias, name) if alias else sql.Identifier(name)

    predicates: list[sql.Composable] = []
    params: list[Any] = []
    if isinstance(scope_ids, ScopeIds):
        # The caller's whole scope: its ids as stored under the key the read's transaction set (dashboards.kpi.rls).
        predicates.append(sql.SQL("{} = ANY({})").format(column(view.scope_column), SCOPE_EMPLOYEE_IDS))
    elif scope_ids is not None:
        # UNASSIGNED among the ids (put there only for an all-rows scope, dashboards.selectors) means "no rep".
        ids = sorted(scope_ids - {UNASSIGNED})
        # One id as `=`: an index on (employee, measure) then gives the employee's rows in order (a rep's ranking);
        # `= ANY` of an array never does (PostgreSQL 15).
        predicate = sql.SQL("{} = %s" if len(ids) == 1 else "{} = ANY(%s)").format(column(view.scope_column))
        if UNASSIGNED in scope_ids:
            predicate = sql.SQL("({} OR {} IS NULL)").format(predicate, column(view.scope_column))
        predicates.append(predicate)
        params.append(ids[0] if len(ids) == 1 else ids)
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
        # team: `kpi_team_aggregate_for`; membership: `_distinct_read`; kept: only its own question reads it.
        # for_questions: dated by month, not by the view's own date: only questions read it (dashboards.kpi.question).
        if aggregate.team_of or aggregate.membership or aggregate.kept or aggregate.for_questions:
            continue
        # A stored distinct count (all time) is neither the view's per-month column nor a sum: never grouped here.
        dimensions = set(aggregate.columns) - set(aggregate.measures) - set(stored_distinct(aggregate))
        if scope_ids is not None and aggregate.scope_column is None:
            continue
        if dated and aggregate.date_column is None:
            continue
        if set(query.group_by) <= dimensions and set(query.measures) <= set(aggregate.measures):
            return aggregate
    return None


def kpi_team_aggregate_for(query: KpiQuery, scope_ids: frozenset[int] | None) -> KpiView | None:
    """The view's team aggregate (registry, "Team aggregates") when it could answer the query: a scoped read (not
    every row) without a date range, grouping and summing only columns the team rows hold; a distinct count they
    store (`team_stored_distinct`) only grouped by their whole key but the team (one row per group). Whether the scope
    IS a team is decided inside the read's statement (`kpi_statement`), against the hierarchy the team rows were
    built with.
    """
    team = team_aggregate_of(query.view)
    if team is None or scope_ids is None or query.date_from or query.date_to:
        return None
    if not (query.group_by or query.measures):
        return None
    counted = team_stored_distinct(team)
    dimensions = set(team.columns) - set(team.measures) - set(counted) - {team.scope_column}
    # A stored distinct count answers only a group of one team row (a month's, a segment's): never summed.
    if set(team.key) - {team.scope_column} <= set(query.group_by):
        readable = set(team.measures) | set(counted)
    else:
        readable = set(team.measures)
    if set(query.group_by) <= dimensions and set(query.measures) <= readable:
        return team
    return None


def kpi_statement(query: KpiQuery, scope_ids: frozenset[int] | None) -> tuple[sql.Composed, list[Any]]:
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
        return _usual_statement(query, scope_ids)
    found, found_params = team_found(team.name, scope_ids)
    # min(): two teams have the same members only in a cycle of bad data, and then the same rows.
    on_team = sql.SQL("{} = (SELECT min(team_id) FROM kpi_team)").format(sql.Identifier(team.scope_column))
    team_read, team_params = _select(query, sql.Identifier(team.name), [on_team], [], team)
    usual, usual_params = _usual_statement(query, scope_ids)
    # Each branch gated from outside: the gate stays above the branch's LIMIT (no qual enters a subquery with a
    # LIMIT), where a false one-time filter never starts the branch; inside, under a Gather, the ruled-out branch
    # would still launch its parallel workers. Outside, a sum without GROUP BY (one row of no rows) is gated too.
    statement = found + sql.SQL(
        "SELECT * FROM ({}) AS kpi_team_read WHERE EXISTS (SELECT 1 FROM kpi_team) "
        "UNION ALL SELECT * FROM ({}) AS kpi_usual_read WHERE NOT EXISTS (SELECT 1 FROM kpi_team)"
    ).format(team_read, usual)
    return statement, [*found_params, *team_params, *usual_params]


def members_digest(ids) -> str:
    """The digest of a sorted id list as kpi_team_snapshot.sql stores it: md5 of the ids joined by commas."""
    return hashlib.md5(",".join(str(i) for i in sorted(ids)).encode(), usedforsecurity=False).hexdigest()


def team_found(aggregate_name: str, scope_ids) -> tuple[sql.Composed, list[Any]]:
    """`WITH kpi_team AS (…)`: the team of `aggregate_name`'s snapshot whose members are exactly `scope_ids`, found
    by the members' digest (an index, before the row-level policy) and then the members themselves; for the caller's
    whole scope (`ScopeIds`), the digest and ids stored with it (dashboards.kpi.rls), not sent again."""
    if isinstance(scope_ids, ScopeIds):
        found = sql.SQL(
            "WITH kpi_team AS MATERIALIZED (SELECT team_id FROM {} WHERE aggregate_name = %s AND members_digest = {} "
            "AND members = {}) "
        ).format(sql.Identifier(TEAM_SNAPSHOTS), SCOPE_MEMBERS_DIGEST, SCOPE_EMPLOYEE_IDS)
        return found, [aggregate_name]
    found = sql.SQL(
        "WITH kpi_team AS MATERIALIZED (SELECT team_id FROM {} WHERE aggregate_name = %s AND members_digest = %s "
        "AND members = %s::bigint[]) "
    ).format(sql.Identifier(TEAM_SNAPSHOTS))
    return found, [aggregate_name, members_digest(scope_ids), sorted(scope_ids)]


def _usual_statement(query: KpiQuery, scope_ids: frozenset[int] | None) -> tuple[sql.Composed, list[Any]]:
    """The read without team rows: distinct measures from stored counts or a membership table, else the plain read."""
    view = query.view
    if view.distinct and _one_employee(view, scope_ids) and set(view.key) - {view.scope_column} <= set(query.group_by):
        # One employee's rows grouped by the rest of the view's key (a rep's months): each group is one stored row,
        # whose distinct counts are that employee's own, exact; not counted again from the membership rows (a rep's
        # new vs returning customers by month at 10M orders: 2,500 membership rows, 10 ms).
        predicates, params = _where(view, scope_ids, view.date_column, query)
        return _select(query, sql.Identifier(view.name), predicates, params, None, alone=view)
    if counted := _distinct_counted_for(query, scope_ids):
        predicates, params = _where(counted, scope_ids, None, query)
        source = sql.SQL("{} AS kpi_rows").format(sql.Identifier(counted.name))
        return _select(query, source, predicates, params, None, counted=counted)
    if members := _distinct_read(query):
        predicates, params = _where(members, scope_ids, members.date_column, query)
        return _select(query, sql.Identifier(members.name), predicates, params, None, members)
    return _plain_statement(query, scope_ids)


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
        if _one_employee(view, scope_ids):
            # One employee's rows of a per-employee view: its key without the employee is one row per group, read
            # as stored (a rep's ranking: the first entries of the scope index, not every product hashed and sorted).
            return _select(query, source, predicates, params, None, alone=view)
    return _select(query, source, predicates, params, aggregate)


def _one_employee(view: KpiView, scope_ids: frozenset[int] | None) -> bool:
    """The read is of exactly one employee's rows (a rep's own scope, a ?rep= filter), never of rows without one."""
    return bool(view.scope_column and view.key and scope_ids is not None and len(scope_ids) == 1) and (
        UNASSIGNED not in scope_ids
    )


def _select(
    query: KpiQuery,
    source: sql.Composable,
    predicates: list[sql.Composable],
    params: list[Any],
    aggregate: KpiView | None,
    members: KpiView | None = None,
    counted: KpiView | None = None,
    alone: KpiView | None = None,
) -> tuple[sql.Composed, list[Any]]:
    """SELECT, GROUP BY, ORDER BY and LIMIT of a query over `source` (the view or `aggregate`) and `predicates`.

    Over a membership table (`members`) a distinct measure is the count of distinct entities of the rows read; over
    a table storing exact counts (`counted`, aliased kpi_rows) it is `_stored_distinct_total`. `alone`: the view
    itself, read for one employee (`_one_employee`): its key without the employee column identifies a row.
    """
    view = query.view
    # Grouping by an aggregate's whole key (a customer's id) groups nothing: its rows are read as they are,
    # ordered by the stored column, so an index on it gives the first rows of a ranking without a sort.
    one_row_per_group = False
    stored = aggregate or alone  # the table whose rows may be read as they are
    if aggregate is not None:
        # A team aggregate's team is fixed by the read: its entity alone is the key.
        key = set(aggregate.key) - ({aggregate.scope_column} if aggregate.team_of else set())
        one_row_per_group = key <= set(query.group_by)
    elif alone is not None:
        one_row_per_group = set(alone.key) - {alone.scope_column} <= set(query.group_by)

    def money(expression: sql.Composable, name: str) -> sql.Composable:
        # KPI tables keep money exact (more than 2 decimals after discounts); callers get cents, rounded
        # after summing so a total is the rounded exact total.
        if view.columns[name] == "money":
            return sql.SQL("round({}, 2) AS {}").format(expression, sql.Identifier(name))
        if view.columns[name] == "integer":  # sum(bigint) is numeric: a count stays an integer (5111, not 5111.0)
            return sql.SQL("{}::bigint AS {}").format(expression, sql.Identifier(name))
        return sql.SQL("{} AS {}").format(expression, sql.Identifier(name))

    if one_row_per_group:
        select = [money(sql.Identifier(c), c) for c in (*query.group_by, *query.measures)]
    elif query.group_by or query.measures:
        distinct = (view.distinct or {}) if members is not None else {}

        def total(name: str) -> sql.Composable:
            if counted is not None and name in stored_distinct(counted):
                return _stored_distinct_total(counted, query, name)
            if name in distinct:
                spec = distinct[name]
                entity, where = (spec, None) if isinstance(spec, str) else (spec["of"], spec.get("where"))
                count = sql.SQL("count(DISTINCT {})").format(sql.Identifier(entity))
                if where:  # a boolean column of the membership table: the entities counted under this measure
                    count += sql.SQL(" FILTER (WHERE {})").format(sql.Identifier(where))
                return count
            return sql.SQL("sum({})").format(sql.Identifier(name))

        select = [money(sql.Identifier(c), c) for c in query.group_by] + [money(total(c), c) for c in query.measures]
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
            return sql.Identifier(stored.name, name) if one_row_per_group else sql.Identifier(name)

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


def kpi_views_for_picker() -> list[KpiView]:
    """Views dashboards may use (the refresh engine's helper views are internal)."""
    return sorted((v for v in KPI_VIEWS.values() if not getattr(v, "internal", False)), key=lambda v: v.name)
