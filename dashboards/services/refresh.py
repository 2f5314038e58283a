"""The KPI refresh engine: full and incremental refreshes of the summary tables in the registry.

Each refresh of a view runs in ONE transaction holding a PostgreSQL advisory lock for that view, so
two refreshes of a view never overlap and a failure rolls back to the previous rows (readers keep
seeing them; MVCC never blocks readers). Every run writes a `refresh_jobs` row, outside that
transaction so that failures are recorded too.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from dashboards.kpi.registry import (
    HIERARCHY,
    KPI_VIEWS,
    MONTH_SOURCES,
    ORDER_FACTS,
    TEAM_SNAPSHOTS,
    KpiView,
    aggregates_of,
    base_views,
    bases_of,
    get_view,
    public_views,
    team_aggregate_of,
)
from dashboards.models import KpiPendingRefresh, KpiViewState, RefreshJob

logger = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "kpi" / "sql"
ENGINE_SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
# First key of pg_advisory_xact_lock(int, int): this engine's namespace; the second is hashtext(view).
ADVISORY_LOCK_NAMESPACE = 7_501_005
FULL, INCREMENTAL, AUTO = "full", "incremental", "auto"
FULL_REFRESH_WORK_MEM = os.environ.get("KPI_REFRESH_WORK_MEM", "64MB")
# Order facts by order: a source that wrote more order lines than this many per order of the touched months is
# not read to the end; those months are recomputed whole instead.
LINES_PER_ORDER_BOUND = 4
INCREMENTAL_RANDOM_PAGE_COST = "1.1"


class RefreshBusy(Exception):
    """Another refresh of the same view holds its lock."""


@dataclass
class RefreshResult:
    view_name: str
    mode: str
    duration_ms: int
    rows: int
    partitions: list[str] = field(default_factory=list)
    job_id: int | None = None

    def as_json(self) -> dict:
        return {"mode": self.mode, "duration_ms": self.duration_ms, "rows": self.rows}


@cache
def view_sql(view_name: str) -> str:
    """The SQL text of a view (a fixed file of the project, never user input)."""
    return (SQL_DIR / get_view(view_name).sql_file).read_text()


def _select(view: KpiView, source: str | None = None) -> sql.Composable:
    text = view_sql(view.name)
    if view.rollup_of:
        return sql.SQL(text).format(source=sql.Identifier(source or view.rollup_of))
    return sql.SQL(text)


def _params(months: list[date] | None) -> dict:
    if months is None:
        return {"all": True, "months": None, "lo": None, "hi": None}
    return {"all": False, "months": months, "lo": min(months), "hi": max(months) + relativedelta(months=1)}


def _columns(view: KpiView) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in view.columns)


def _execute(statement: sql.Composable, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _rebuild_partitions(view: KpiView, months: list[date] | None) -> int:
    """Delete the months (or everything) and insert them again from the view's SQL; returns rows added - removed."""
    table = sql.Identifier(view.name)
    if months is None:
        removed = _execute(sql.SQL("DELETE FROM {}").format(table))
    else:
        removed = _execute(
            sql.SQL("DELETE FROM {} WHERE {} = ANY(%(months)s::date[])").format(
                table, sql.Identifier(view.partition_key)
            ),
            {"months": months},
        )
    added = _execute(
        sql.SQL("INSERT INTO {} ({}) {}").format(table, _columns(view), _select(view)),
        _params(months),
    )
    return added - removed


def _replace_internal(view: KpiView) -> None:
    """Full rebuild of an internal table (a rollup helper or the order facts), faster than delete-and-insert.

    TRUNCATE, insert without its indexes, index again (one sort per index instead of a million index
    insertions), ANALYZE. TRUNCATE and DROP INDEX lock the table until the transaction ends: no dashboard
    reads these tables, and the refreshes that do read them wait for their advisory lock first anyway.
    No dead rows are left behind either (a million after each delete-and-insert of the order facts).
    The index definitions are read back from the catalog: they are the migrations' own.
    """
    table = sql.Identifier(view.name)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
            [view.name],
        )
        indexes = cursor.fetchall()
    _execute(sql.SQL("TRUNCATE {}").format(table))
    for name, _definition in indexes:
        _execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    _execute(sql.SQL("INSERT INTO {} ({}) {}").format(table, _columns(view), _select(view)), _params(None))
    for _name, definition in indexes:
        _execute(sql.SQL(definition))
    _execute(sql.SQL("ANALYZE {}").format(table))


def _rollup_full(view: KpiView) -> None:
    helper = get_view(view.rollup_of)
    _replace_internal(helper)
    _execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(view.name)))
    _execute(sql.SQL("INSERT INTO {} ({}) {}").format(sql.Identifier(view.name), _columns(view), _select(view)))


def _rollup_incremental(view: KpiView, months: list[date]) -> None:
    """Recompute the helper's months and add (new - old) of those months to the per-entity rows."""
    helper = get_view(view.rollup_of)
    entity_keys = [k for k in helper.key if k != helper.partition_key]
    helper_table = sql.Identifier(helper.name)
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in entity_keys)
    measures = sql.SQL(", ").join(sql.Identifier(m) for m in view.measures)
    negated = sql.SQL(", ").join(sql.SQL("-{0} AS {0}").format(sql.Identifier(m)) for m in view.measures)
    in_months = sql.SQL("{} = ANY(%(months)s::date[])").format(sql.Identifier(helper.partition_key))
    _execute(sql.SQL("DROP TABLE IF EXISTS kpi_old, kpi_delta"))
    _execute(
        sql.SQL("CREATE TEMP TABLE kpi_old ON COMMIT DROP AS SELECT {}, {} FROM {} WHERE {}").format(
            keys, measures, helper_table, in_months
        ),
        {"months": months},
    )
    _rebuild_partitions(helper, months)
    # Netted per entity, and only the entities whose sums changed: recomputing a month whose entities mostly did
    # not change gives new = old for them, and upserting those zeros rewrote (and re-indexed) a row per entity of
    # the month in a table of millions. Exact: attributes (names...) change only with a full refresh.
    summed = sql.SQL(", ").join(sql.SQL("sum({0}) AS {0}").format(sql.Identifier(m)) for m in view.measures)
    changed = sql.SQL(" OR ").join(sql.SQL("sum({}) <> 0").format(sql.Identifier(m)) for m in view.measures)
    _execute(
        sql.SQL(
            "CREATE TEMP TABLE kpi_delta ON COMMIT DROP AS "
            "SELECT {keys}, {summed} FROM ("
            "SELECT {keys}, {measures} FROM {helper} WHERE {in_months} "
            "UNION ALL SELECT {keys}, {negated} FROM kpi_old) d "
            "GROUP BY {keys} HAVING {changed}"
        ).format(
            keys=keys,
            summed=summed,
            measures=measures,
            helper=helper_table,
            in_months=in_months,
            negated=negated,
            changed=changed,
        ),
        {"months": months},
    )
    table = sql.Identifier(view.name)
    attributes = [c for c in view.columns if c not in view.key and c not in view.measures]
    updates = [sql.SQL("{0} = {1}.{0} + EXCLUDED.{0}").format(sql.Identifier(m), table) for m in view.measures]
    updates += [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(a)) for a in attributes]
    _execute(
        sql.SQL("INSERT INTO {table} ({columns}) {select} ON CONFLICT ({key}) DO UPDATE SET {updates}").format(
            table=table,
            columns=_columns(view),
            select=_select(view, source="kpi_delta"),
            key=sql.SQL(", ").join(sql.Identifier(k) for k in view.key),
            updates=sql.SQL(", ").join(updates),
        )
    )
    # An entity whose last order moved out of the recomputed months disappears, as a full refresh would drop it.
    _delete_emptied(view)


def _delete_emptied(view: KpiView) -> None:
    """Delete the rows whose count a refresh brought to 0 (every entity's last order moved out or went).

    No row has a count of 0 between refreshes (a full refresh stores count(*) >= 1; each incremental refresh ends
    here), so every such row is one this refresh emptied. A partial index holds exactly them (`..._emptied`,
    migration 0013), so this costs what it deletes. Matching them to the refresh's differences instead cost a
    nested loop: the keys may be NULL, and `IS NOT DISTINCT FROM` can use neither a hash nor the key index (40 s
    at 1M orders when a re-upload took 10,000 orders away).
    """
    _execute(
        sql.SQL("DELETE FROM {} WHERE {} = 0").format(sql.Identifier(view.name), sql.Identifier(view.count_column))
    )


def _old_sums(aggregate: KpiView) -> sql.Identifier:
    return sql.Identifier(f"kpi_old_{aggregate.name}")


def _months_rows(view: KpiView, key: str) -> sql.Composable:
    """The view's rows of the months in %(months)s, named like the view (an aggregate's `{source}`)."""
    return sql.SQL("(SELECT * FROM {view} WHERE {key} = ANY(%(months)s::date[])) AS {view}").format(
        view=sql.Identifier(view.name), key=sql.Identifier(key)
    )


def _aggregates_before(view: KpiView, months: list[date]) -> None:
    """Before a month-partitioned view recomputes `months`: what those months add to each aggregate that drops
    the month (each rep's months summed), so that `_aggregates_refresh` adds only the difference (new - old)."""
    for aggregate in aggregates_of(view):
        if aggregate.partition_key or aggregate.team_of:
            continue
        old = _old_sums(aggregate)
        _execute(sql.SQL("DROP TABLE IF EXISTS {}").format(old))
        _execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS {}").format(
                old, sql.SQL(view_sql(aggregate.name)).format(source=_months_rows(view, view.partition_key))
            ),
            {"months": months},
        )


def _aggregate_select(aggregate: KpiView, source: sql.Composable) -> sql.Composable:
    """An aggregate's SQL file summing `source` (a team aggregate's also joins its hierarchy snapshot)."""
    text = sql.SQL(view_sql(aggregate.name))
    if aggregate.team_of:
        members = _engine_sql("kpi_team_members.sql").format(aggregate=sql.Literal(aggregate.name))
        return text.format(source=source, members=members)
    return text.format(source=source)


def _team_snapshot_rebuild(aggregate: KpiView) -> None:
    """Take the hierarchy a team aggregate is (re)built with from canonical_employees, in the refresh's transaction."""
    _execute(
        sql.SQL("DELETE FROM {} WHERE aggregate_name = %(aggregate)s").format(sql.Identifier(TEAM_SNAPSHOTS)),
        {"aggregate": aggregate.name},
    )
    _execute(
        _engine_sql("kpi_team_snapshot.sql"), {"aggregate": aggregate.name, "first_line": aggregate.first_line_teams}
    )


def _aggregates_refresh(view: KpiView, *, full: bool, months: list[date], rebuild: set[str] = frozenset()) -> None:
    """Bring the view's read-side aggregates (registry: `aggregate_of`) in line with its rows, in its transaction.

    An aggregate's SQL file sums `{source}`: the whole view to rebuild it (full refresh, or an aggregate named in
    `rebuild`: a team aggregate whose hierarchy changed), or for an incremental refresh only the view's rows that
    changed groups of the aggregate hold:
    - it keeps the month: the refreshed months' rows, which replace those months;
    - it sums a rollup's entities over reps (all reps, or per team): the rollup's own difference per entity
      (`kpi_delta` of `_rollup_incremental`) is added (`_aggregate_add_rollup_delta`, `_team_add_rollup_delta`);
    - it drops the month (each rep's months summed): the refreshed months' rows minus what they summed to
      before (`_aggregates_before`), added to the stored sums; a group whose count reaches 0 goes. A month
      changes nearly every rep, so the difference is the cheap way, as for the rollups.
    A team aggregate's rebuild takes its hierarchy snapshot again first (`_team_snapshot_rebuild`).
    """
    parent = sql.Identifier(view.name)
    for aggregate in aggregates_of(view):
        table = sql.Identifier(aggregate.name)
        columns = _columns(aggregate)
        if full or aggregate.name in rebuild:
            if aggregate.team_of:
                _team_snapshot_rebuild(aggregate)
            _execute(sql.SQL("DELETE FROM {}").format(table))
            _execute(sql.SQL("INSERT INTO {} ({}) {}").format(table, columns, _aggregate_select(aggregate, parent)))
            continue
        if not months:
            continue
        if aggregate.partition_key:
            in_months = sql.SQL("{} = ANY(%(months)s::date[])").format(sql.Identifier(aggregate.partition_key))
            _execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, in_months), {"months": months})
            source = _months_rows(view, aggregate.partition_key)
            _execute(
                sql.SQL("INSERT INTO {} ({}) {}").format(table, columns, _aggregate_select(aggregate, source)),
                {"months": months},
            )
        elif view.rollup_of and aggregate.team_of:
            _team_add_rollup_delta(view, aggregate)
        elif view.rollup_of:
            _aggregate_add_rollup_delta(view, aggregate)
        else:
            _aggregate_add_difference(view, aggregate, months)


def _aggregate_add_rollup_delta(view: KpiView, aggregate: KpiView) -> None:
    """Add the rollup's per-entity difference (`kpi_delta`: new - old per entity and rep) to an aggregate of its
    entities over reps (top customers): existing entities get the summed difference; entities new to the
    aggregate are summed from the rollup's rows (with their names); an entity whose count reaches 0 goes.
    Costs one row write per changed entity, like the rollup's own upsert. A NULL entity (orders without a
    customer) is recomputed on its own (`=` does not match NULL)."""
    table, parent = sql.Identifier(aggregate.name), sql.Identifier(view.name)
    key = sql.Identifier(aggregate.key[0])
    sums = sql.SQL(", ").join(sql.SQL("sum({0}) AS {0}").format(sql.Identifier(m)) for m in aggregate.measures)
    _execute(sql.SQL("DROP TABLE IF EXISTS kpi_aggregate_delta"))
    _execute(
        sql.SQL(
            "CREATE TEMP TABLE kpi_aggregate_delta ON COMMIT DROP AS SELECT {k}, {sums} FROM kpi_delta GROUP BY {k}"
        ).format(k=key, sums=sums)
    )
    _execute(
        sql.SQL("UPDATE {t} SET {updates} FROM kpi_aggregate_delta d WHERE {t}.{k} = d.{k}").format(
            t=table,
            k=key,
            updates=sql.SQL(", ").join(
                sql.SQL("{0} = {1}.{0} + d.{0}").format(sql.Identifier(m), table) for m in aggregate.measures
            ),
        )
    )
    new_entities = sql.SQL(
        "SELECT * FROM {p} WHERE {k} IN (SELECT d.{k} FROM kpi_aggregate_delta d "
        "WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE {t}.{k} = d.{k}))"
    ).format(p=parent, t=table, k=key)
    null_touched = sql.SQL("EXISTS (SELECT 1 FROM kpi_aggregate_delta WHERE {} IS NULL)").format(key)
    _execute(sql.SQL("DELETE FROM {} WHERE {} IS NULL AND {}").format(table, key, null_touched))
    null_entity = sql.SQL("SELECT * FROM {} WHERE {} IS NULL AND {}").format(parent, key, null_touched)
    source = sql.SQL("({} UNION ALL {}) AS {}").format(new_entities, null_entity, parent)
    _execute(
        sql.SQL("INSERT INTO {} ({}) {}").format(
            table, _columns(aggregate), sql.SQL(view_sql(aggregate.name)).format(source=source)
        )
    )
    _delete_emptied(aggregate)


def _team_add_rollup_delta(view: KpiView, aggregate: KpiView) -> None:
    """Add the rollup's difference (`kpi_delta`: new - old per entity and rep) to each team of each rep, as the
    aggregate's hierarchy snapshot has them (a rep is in a handful of teams: its manager's, their VP's, the CEO's;
    in one with first-line teams only).

    One upsert of the differences summed per team and entity: an existing group gets its difference added; a group
    new to a team had no sum there, so its difference IS its sum. The rows go through the view's own SQL (the team
    standing in for the rep), which gives them the entity's attributes (names...) exactly as the view's own upsert
    takes them. Costs one row write per changed (team, entity); nothing is summed again from the view's rows. A
    group whose count reaches 0 goes, as a full rebuild would drop it.
    """
    table = sql.Identifier(aggregate.name)
    rep = sql.Identifier(aggregate.team_of)
    entity = [sql.Identifier(k) for k in view.key if k != aggregate.team_of]
    sums = sql.SQL(", ").join(sql.SQL("sum(d.{0}) AS {0}").format(sql.Identifier(m)) for m in view.measures)
    changed = sql.SQL(" OR ").join(sql.SQL("sum(d.{}) <> 0").format(sql.Identifier(m)) for m in view.measures)
    members = _engine_sql("kpi_team_members.sql").format(aggregate=sql.Literal(aggregate.name))
    _execute(sql.SQL("DROP TABLE IF EXISTS kpi_team_delta"))
    _execute(
        sql.SQL(
            "CREATE TEMP TABLE kpi_team_delta ON COMMIT DROP AS "
            "SELECT {entities}, m.team_id AS {rep}, {sums} "
            "FROM kpi_delta d JOIN {members} m ON m.employee_id = d.{rep} "
            "GROUP BY {entities}, m.team_id HAVING {changed}"
        ).format(
            entities=sql.SQL(", ").join(sql.SQL("d.{}").format(e) for e in entity),
            rep=rep,
            sums=sums,
            members=members,
            changed=changed,
        )
    )
    _execute(sql.SQL("ANALYZE kpi_team_delta"))
    outputs = [sql.Identifier(c) for c in aggregate.columns if c != "team_id"]
    updates = [sql.SQL("{0} = {1}.{0} + EXCLUDED.{0}").format(sql.Identifier(m), table) for m in aggregate.measures]
    _execute(
        sql.SQL(
            "INSERT INTO {table} ({columns}) SELECT {rep}, {outputs} FROM ({select}) t "
            "ON CONFLICT ({key}) DO UPDATE SET {updates}"
        ).format(
            table=table,
            columns=_columns(aggregate),
            rep=rep,
            outputs=sql.SQL(", ").join(outputs),
            select=_select(view, source="kpi_team_delta"),
            key=sql.SQL(", ").join(sql.Identifier(k) for k in aggregate.key),
            updates=sql.SQL(", ").join(updates),
        )
    )
    _delete_emptied(aggregate)


def _aggregate_add_difference(view: KpiView, aggregate: KpiView, months: list[date]) -> None:
    table = sql.Identifier(aggregate.name)
    attributes = [c for c in aggregate.columns if c not in aggregate.key and c not in aggregate.measures]
    new = sql.SQL(view_sql(aggregate.name)).format(source=_months_rows(view, view.partition_key))
    # The file selects the aggregate's columns in declaration order: the old sums negated, in the same order.
    negated = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(
            sql.SQL("-{0} AS {0}" if c in aggregate.measures else "{0}").format(sql.Identifier(c))
            for c in aggregate.columns
        ),
        _old_sums(aggregate),
    )
    select = sql.SQL("SELECT {keys}, {attributes}, {sums} FROM ({new} UNION ALL {negated}) d GROUP BY {keys}").format(
        keys=sql.SQL(", ").join(sql.Identifier(k) for k in aggregate.key),
        attributes=sql.SQL(", ").join(sql.SQL("min({0}) AS {0}").format(sql.Identifier(a)) for a in attributes),
        sums=sql.SQL(", ").join(sql.SQL("sum({0}) AS {0}").format(sql.Identifier(m)) for m in aggregate.measures),
        new=new,
        negated=negated,
    )
    updates = [sql.SQL("{0} = {1}.{0} + EXCLUDED.{0}").format(sql.Identifier(m), table) for m in aggregate.measures]
    updates += [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(a)) for a in attributes]
    _execute(
        sql.SQL("INSERT INTO {table} ({columns}) {select} ON CONFLICT ({key}) DO UPDATE SET {updates}").format(
            table=table,
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in (*aggregate.key, *attributes, *aggregate.measures)),
            select=select,
            key=sql.SQL(", ").join(sql.Identifier(k) for k in aggregate.key),
            updates=sql.SQL(", ").join(updates),
        ),
        {"months": months},
    )
    _delete_emptied(aggregate)


def _lock(view: KpiView, *, wait: bool) -> None:
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [ADVISORY_LOCK_NAMESPACE, view.name])
            return
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [ADVISORY_LOCK_NAMESPACE, view.name])
        if not cursor.fetchone()[0]:
            raise RefreshBusy(f"another refresh of {view.name} is running")


def _table_facts(view: KpiView, known_rows: int | None = None) -> tuple[int, date | None]:
    """Row count and the newest date the view covers (its date column), for status and staleness.

    `known_rows`: the count when the caller knows it (previous count + rows added - removed by an incremental
    refresh), which spares counting the whole table: that count was a large part of a small refresh's time.
    """
    table = sql.Identifier(view.name)
    with connection.cursor() as cursor:
        if known_rows is not None and view.date_column:
            cursor.execute(sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(view.date_column), table))
            return known_rows, cursor.fetchone()[0]
        if view.date_column:
            cursor.execute(sql.SQL("SELECT count(*), max({}) FROM {}").format(sql.Identifier(view.date_column), table))
        else:
            cursor.execute(sql.SQL("SELECT count(*), NULL FROM {}").format(table))
        rows, newest = cursor.fetchone()
    return rows, newest


def _parse_months(values) -> list[date]:
    months = set()
    for value in values or []:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        months.add(day.replace(day=1))
    return sorted(months)


def _base_bring_up_to_date(base: KpiView, *, full: bool, months: list[date], wait: bool) -> None:
    """Make a base table (the order facts) current for a view about to read it, in the view's transaction.

    `full`: rebuild it (the view's full refresh recomputes from the canonical tables). Otherwise recompute what
    is pending (recorded when executions commit) plus `months` (named by the caller): for the order facts, the
    orders an execution wrote (`_order_facts_of_sources`), else whole months; a base never built, or with a
    pending change that asked for a full refresh (customers touched...), is rebuilt. Its own advisory lock
    serializes the views that read it; the lock and the pending rows go with the transaction.
    """
    _lock(base, wait=wait)
    clock = time.monotonic()
    state, _ = KpiViewState.objects.get_or_create(view_name=base.name)
    pending = list(KpiPendingRefresh.objects.filter(view_name=base.name))
    full = full or state.last_success_at is None or any(item.full for item in pending)
    wanted = set(months)
    by_source = [item for item in pending if base.name == ORDER_FACTS and item.source_id is not None]
    for item in pending:
        if item not in by_source:
            wanted.update(_parse_months(item.months))
    if full:
        _execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(FULL_REFRESH_WORK_MEM)))
        _replace_internal(base)
    elif wanted or by_source:
        if by_source:
            wanted.update(_order_facts_of_sources(by_source))
        if wanted:
            _rebuild_partitions(base, sorted(wanted))
    else:
        return
    if pending:
        KpiPendingRefresh.objects.filter(pk__in=[item.pk for item in pending]).delete()
    state.last_success_at = timezone.now()
    state.last_attempt_at = state.last_success_at
    state.last_mode = FULL if full else INCREMENTAL
    state.last_duration_ms = round((time.monotonic() - clock) * 1000)
    state.consecutive_failures = 0
    state.last_error = ""
    # No row count: counting a million-row base on every incremental refresh would cost more than the refresh.
    state.save()


def _engine_sql(name: str) -> sql.SQL:
    """An SQL file of the refresh engine (dashboards/sql/), a fixed file of the project."""
    return sql.SQL((ENGINE_SQL_DIR / name).read_text())


def _order_facts_of_sources(pending: list[KpiPendingRefresh]) -> set[date]:
    """Recompute the order facts of the orders that the pending executions wrote; returns months left to do.

    An execution records the months it touched, and every row it inserts or updates carries its source
    (provenance). Recomputing the facts of the orders its source wrote (and of the orders of the order lines it
    wrote), deleted and inserted again by order id, is exact: an order's facts depend only on the order, its
    customer's rep, its lines and their products, and a change to customers or products asks for a full rebuild.
    It is cheaper than recomputing the touched months when that source wrote fewer orders than those months
    hold: a 1% append into a month of 27,000 orders recomputes its 10,000 orders, not the 27,000. Otherwise
    (a source that loaded much more: its first load, a re-run of a big file) the months are returned to be
    recomputed whole, as before. Rows a source wrote in an earlier run are recomputed too; they did not change,
    so that is harmless. The views reading the facts still recompute their own touched months (cheap).
    """
    sources = sorted({item.source_id for item in pending})
    months = set()
    for item in pending:
        months.update(_parse_months(item.months))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM kpi_order_facts WHERE month = ANY(%s::date[])", [sorted(months)])
        cap = cursor.fetchone()[0]
        cursor.execute(
            _engine_sql("kpi_orders_written.sql"),
            {"sources": sources, "cap": cap, "line_cap": cap * LINES_PER_ORDER_BOUND},
        )
        orders, line_orders = cursor.fetchone()
    if len(orders) > cap or len(line_orders) > cap * LINES_PER_ORDER_BOUND:
        return months
    order_ids = sorted(set(orders) | set(line_orders))
    if len(order_ids) > cap:
        return months
    if order_ids:
        _execute(
            sql.SQL("DELETE FROM {} WHERE order_id = ANY(%(order_ids)s::bigint[])").format(sql.Identifier(ORDER_FACTS)),
            {"order_ids": order_ids},
        )
        # A few thousand orders, each found by its key with its lines by their order index: with the default
        # random_page_cost (4, priced for spinning disks) the planner hash-joined every order line instead (at 1M
        # orders, 10,000 orders: a scan of 2.5M lines, 770 ms, against 190 ms by index). For this statement only.
        _execute(sql.SQL("SET LOCAL random_page_cost = {}").format(sql.Literal(INCREMENTAL_RANDOM_PAGE_COST)))
        _execute(
            sql.SQL("INSERT INTO {} ({}) {}").format(
                sql.Identifier(ORDER_FACTS),
                _columns(get_view(ORDER_FACTS)),
                _engine_sql("kpi_order_facts_of_orders.sql"),
            ),
            {"order_ids": order_ids},
        )
        _execute(sql.SQL("SET LOCAL random_page_cost TO DEFAULT"))
    return set()


def kpi_bases_rebuild(*, wait: bool = True) -> dict[str, int]:
    """Rebuild every base table once (each in its own transaction); {name: duration_ms}.

    `kpi_views_refresh_all(full=True)` calls it first and then refreshes the views without rebuilding the
    bases again: the order facts are built once, not once per view that reads them.
    """
    durations = {}
    for base in base_views():
        clock = time.monotonic()
        with transaction.atomic():
            _base_bring_up_to_date(base, full=True, months=[], wait=wait)
        durations[base.name] = round((time.monotonic() - clock) * 1000)
    return durations


def kpi_view_refresh(
    *,
    view_name: str,
    mode: str = AUTO,
    months: list | None = None,
    wait: bool = True,
    attempt: int = 1,
    source_id: int | None = None,
    rebuild_bases: bool = True,
) -> RefreshResult:
    """Refresh one KPI view and record the run in `refresh_jobs`.

    mode "full" rebuilds the table; "auto" refreshes incrementally the months waiting for it
    (`KpiPendingRefresh`, recorded when an execution commits) plus `months`, and falls back to full when
    the view's strategy is full, it was never built, or a pending change asked for it.
    With `wait=False` a refresh already running raises `RefreshBusy` instead of waiting for it.
    The base tables the view reads (`bases_of`: the order facts) are brought up to date first, in the same
    transaction: fully for a full refresh unless `rebuild_bases=False` (the caller rebuilt them just before,
    see `kpi_views_refresh_all`), else their pending months and the `months` given.
    A failure re-raises after recording it; the view keeps its previous rows.
    """
    view = get_view(view_name)
    if view.internal:
        raise ValueError(f"{view_name} is refreshed with the view rolled up from it, not alone")
    started = timezone.now()
    job = RefreshJob.objects.create(
        view_name=view.name,
        mode=mode,
        status=RefreshJob.Status.RUNNING,
        last_run=started,
        attempt=attempt,
        source_id=source_id,
    )
    clock = time.monotonic()
    try:
        with transaction.atomic():
            _lock(view, wait=wait)
            state, _ = KpiViewState.objects.get_or_create(view_name=view.name)
            pending = list(KpiPendingRefresh.objects.filter(view_name=view.name))
            # Aggregates asked to be rebuilt from the view's stored rows (a team aggregate whose hierarchy changed).
            rebuild_pending = list(
                KpiPendingRefresh.objects.filter(view_name__in=[a.name for a in aggregates_of(view)])
            )
            rebuild = {item.view_name for item in rebuild_pending}
            wanted = set(_parse_months(months))
            for item in pending:
                wanted.update(_parse_months(item.months))
            full = (
                mode == FULL
                or view.strategy == FULL
                or state.last_success_at is None
                or any(item.full for item in pending)
            )
            partitions = sorted(wanted)
            # The base's own pending months were recorded with the view's (kpi_refresh_mark_touched), so only
            # months the caller names are added: a second view reading the same base does not redo them.
            for base in bases_of(view):
                _base_bring_up_to_date(base, full=full and rebuild_bases, months=_parse_months(months), wait=wait)
            if full:
                effective = FULL
                # A full rebuild sorts and hashes every order: let it do so in memory, for this transaction only.
                _execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(FULL_REFRESH_WORK_MEM)))
                if view.rollup_of:
                    _rollup_full(view)
                else:
                    _rebuild_partitions(view, None)
                known_rows = None
            else:
                effective = INCREMENTAL
                known_rows = state.rows  # unchanged when nothing was pending
                if partitions and view.rollup_of:
                    _rollup_incremental(view, partitions)
                    known_rows = None  # upserts and deletes by entity: count again
                elif partitions:
                    _aggregates_before(view, partitions)
                    change = _rebuild_partitions(view, partitions)
                    known_rows = state.rows + change if state.rows is not None else None
            _aggregates_refresh(view, full=full, months=partitions, rebuild=rebuild)
            KpiPendingRefresh.objects.filter(pk__in=[item.pk for item in pending + rebuild_pending]).delete()
            rows, newest = _table_facts(view, known_rows)
            duration_ms = round((time.monotonic() - clock) * 1000)
            state.last_success_at = timezone.now()
            state.last_attempt_at = started
            state.last_mode = effective
            state.last_duration_ms = duration_ms
            state.rows = rows
            state.data_through = newest
            state.consecutive_failures = 0
            state.last_error = ""
            state.save()
    except RefreshBusy as exc:
        job.status = RefreshJob.Status.SKIPPED
        job.error = str(exc)
        job.duration_ms = round((time.monotonic() - clock) * 1000)
        job.save(update_fields=["status", "error", "duration_ms"])
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}".strip()[:2000]
        job.status = RefreshJob.Status.FAILED
        job.error = error
        job.duration_ms = round((time.monotonic() - clock) * 1000)
        job.save(update_fields=["status", "error", "duration_ms"])
        state, _ = KpiViewState.objects.get_or_create(view_name=view.name)
        state.consecutive_failures += 1
        state.last_error = error
        state.last_attempt_at = started
        state.save(update_fields=["consecutive_failures", "last_error", "last_attempt_at"])
        logger.warning("refresh of KPI view %s failed: %s", view.name, error)
        raise
    job.status = RefreshJob.Status.SUCCEEDED
    job.mode = effective
    job.duration_ms = duration_ms
    job.rows = rows
    job.partitions = [m.isoformat() for m in partitions] if effective == INCREMENTAL else []
    job.save(update_fields=["status", "mode", "duration_ms", "rows", "partitions"])
    if effective == FULL:
        _vacuum(view)
    for aggregate in aggregates_of(view):
        if effective == FULL or aggregate.name in rebuild:
            _vacuum(aggregate)
    return RefreshResult(view.name, effective, duration_ms, rows, job.partitions, job.pk)


def _vacuum(view: KpiView) -> None:
    """VACUUM (ANALYZE) a dashboard-facing table after its full refresh, once that has committed.

    A full refresh deletes every row and inserts them again (readers keep the old rows until it commits), so
    it leaves the whole previous table as dead rows. Until autovacuum came by, a manager's read walked them:
    measured at 1M orders, revenue_by_category's scope index gave 52,272 entries for 8,712 live rows (57 ms
    instead of a few). Plain VACUUM does not block readers. It cannot run inside a transaction (tests, an
    ATOMIC block): there autovacuum is left to it.
    """
    if connection.in_atomic_block:
        return
    try:
        _execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(view.name)))
    except Exception as exc:  # the refresh itself succeeded; a missed vacuum only costs read speed
        logger.warning("VACUUM of KPI view %s failed: %s", view.name, exc)


def kpi_views_refresh_all(*, full: bool = False, view_names: list[str] | None = None) -> dict[str, RefreshResult]:
    """Refresh every dashboard-facing view (or `view_names`), in registry order; stops at the first failure.

    `full`: the base tables (order facts) are rebuilt once first, then each view from them.
    """
    names = view_names or [v.name for v in public_views()]
    if full and any(bases_of(get_view(name)) for name in names):
        kpi_bases_rebuild()
    return {
        name: kpi_view_refresh(view_name=name, mode=FULL if full else AUTO, rebuild_bases=not full) for name in names
    }


def views_depending_on(tables: set[str]) -> list[KpiView]:
    return [v for v in public_views() if tables & set(v.depends_on)]


@transaction.atomic
def kpi_refresh_mark_touched(*, touched: dict, source_id: int | None = None) -> list[str]:
    """Record which partitions of which views an execution made stale; returns the views to refresh.

    `touched` is the execution report's `{table: {"months": [...], "customer_ids": [...], ...}}`.
    A month-partitioned view gets the union of the months its month-source tables reported; any other
    touched dependency (or a full-strategy view) asks for a full refresh of that view.
    """
    # The execution lists a table only when it inserted or updated rows there (a re-run of the same file lists
    # none), with the keys it could tell: an employees file lists canonical_employees with no keys at all.
    tables = set(touched or {})
    names = []
    bases = [b for b in base_views() if tables & set(b.depends_on)]
    for view in bases + views_depending_on(tables):
        months: set[date] = set()
        full = view.strategy == FULL
        for table in tables & set(view.depends_on):
            table_months = _parse_months(touched[table].get("months")) if isinstance(touched[table], dict) else []
            if table in MONTH_SOURCES and table_months:
                months.update(table_months)
            else:
                full = True
        KpiPendingRefresh.objects.create(
            view_name=view.name,
            months=[m.isoformat() for m in sorted(months)],
            full=full,
            source_id=source_id,
        )
        if not view.internal and view.name not in names:  # a base is brought up to date by the views reading it
            names.append(view.name)
    # A new hierarchy (an employees file): each team aggregate is rebuilt with it from its view's stored rows by the
    # view's next refresh (queued with the others), which does not refresh the view itself for that.
    if HIERARCHY in tables:
        for view in public_views():
            if team := team_aggregate_of(view):
                KpiPendingRefresh.objects.create(view_name=team.name, months=[], full=True, source_id=source_id)
                if view.name not in names:
                    names.append(view.name)
    return names


__all__ = [
    "KPI_VIEWS",
    "RefreshBusy",
    "RefreshResult",
    "kpi_refresh_mark_touched",
    "kpi_view_refresh",
    "kpi_views_refresh_all",
]
