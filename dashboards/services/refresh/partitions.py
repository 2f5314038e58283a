"""Table primitives of the refresh engine: the view SQL files, the advisory lock, partition and rollup rebuilds."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.db import connection
from psycopg import sql

from dashboards.kpi.registry import (
    CTES_DIR,
    KpiView,
    get_view,
)

SQL_DIR = Path(__file__).resolve().parents[2] / "kpi" / "sql"
ENGINE_SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
# First key of pg_advisory_xact_lock(int, int): this engine's namespace; the second is hashtext(view).
ADVISORY_LOCK_NAMESPACE = 7_501_005
FULL, INCREMENTAL, AUTO = "full", "incremental", "auto"


class RefreshBusy(Exception):
    """Another refresh of the same view holds its lock."""


@cache
def view_sql(view_name: str) -> str:
    """The SQL text of a view: a fixed file of the project (after the WITH clause of its `ctes` file, when it names
    one), or a kept question's SQL (built by `dashboards.kpi.kept` from allow-listed parts, values quoted by
    psycopg)."""
    view = get_view(view_name)
    if view.sql_text:
        return view.sql_text
    text = (SQL_DIR / view.sql_file).read_text()
    return (CTES_DIR / f"{view.ctes}.sql").read_text() + text if view.ctes else text


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
    nested loop: the keys may be NULL, and `IS NOT DISTINCT FROM` can use neither a hash nor the key index.
    """
    _execute(
        sql.SQL("DELETE FROM {} WHERE {} = 0").format(sql.Identifier(view.name), sql.Identifier(view.count_column))
    )


def _lock(view: KpiView, *, wait: bool) -> None:
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [ADVISORY_LOCK_NAMESPACE, view.name])
            return
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [ADVISORY_LOCK_NAMESPACE, view.name])
        if not cursor.fetchone()[0]:
            raise RefreshBusy(f"another refresh of {view.name} is running")


def _engine_sql(name: str) -> sql.SQL:
    """An SQL file of the refresh engine (dashboards/sql/), a fixed file of the project."""
    return sql.SQL((ENGINE_SQL_DIR / name).read_text())
