"""Base tables (the order facts): brought up to date for the views that read them, by order or by month."""

from __future__ import annotations

import os
import re
import time
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from dashboards.kpi.registry import (
    ORDER_FACTS,
    KpiView,
    base_views,
    get_view,
)
from dashboards.models import KpiPendingRefresh, KpiViewState
from dashboards.services.refresh.partitions import (
    FULL,
    INCREMENTAL,
    _columns,
    _engine_sql,
    _execute,
    _lock,
    _rebuild_partitions,
    _replace_internal,
)

FULL_REFRESH_WORK_MEM = os.environ.get("KPI_REFRESH_WORK_MEM", "64MB")
# Order facts by order: a source that wrote more order lines than this many per order of the touched months is
# not read to the end; those months are recomputed whole instead.
LINES_PER_ORDER_BOUND = 4
INCREMENTAL_RANDOM_PAGE_COST = "1.1"


# A month as an execution report or a pending refresh holds it: a date, or its text with a year of 1 to 4 ASCII
# digits ('1-02-01' is year 1: a misread file's dates reach the tables too), optionally with a time after it.
_MONTH_TEXT = re.compile(r"([0-9]{1,4})-([0-9]{1,2})(?:-([0-9]{1,2}))?(?:[T ][0-9:.]*(?:Z|[+-][0-9:]+)?)?")


def _parse_month(value) -> date | None:
    """The first day of the month `value` falls in; None when it names no month a Python date can hold."""
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    match = _MONTH_TEXT.fullmatch(str(value).strip()) if value is not None else None
    if match is None:  # NULL, 'infinity', a BC date, a year past 9999, anything else
        return None
    year, month, day = match.groups()
    try:
        date(int(year), int(month), int(day or 1))
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def _parse_months(values) -> tuple[list[date], bool]:
    """The distinct months of `values`, and whether every value was one.

    A value that is not a month cannot be refreshed on its own: the caller refreshes the whole view instead,
    so an odd date that reached the tables never makes a refresh fail.
    """
    months: set[date] = set()
    readable = True
    for value in values or []:
        month = _parse_month(value)
        if month is None:
            readable = False
        else:
            months.add(month)
    return sorted(months), readable


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
    parsed = {item.pk: _parse_months(item.months) for item in pending}
    full = (
        full
        or state.last_success_at is None
        or any(item.full or not parsed[item.pk][1] for item in pending)  # a month it cannot read: all months
    )
    wanted = set(months)
    by_source = [item for item in pending if base.name == ORDER_FACTS and item.source_id is not None]
    for item in pending:
        if item not in by_source:
            wanted.update(parsed[item.pk][0])
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


def _order_facts_of_sources(pending: list[KpiPendingRefresh]) -> set[date]:
    """Recompute the order facts of the orders that the pending executions wrote; returns months left to do.

    An execution records the months it touched, and every row it inserts or updates carries its source
    (provenance). Recomputing the facts of the orders its source wrote (and of the orders of the order lines it
    wrote), deleted and inserted again by order id, is exact: an order's facts depend only on the order, its
    customer's rep, its lines and their products, and a change to customers or products asks for a full rebuild.
    It is cheaper than recomputing the touched months when that source wrote fewer orders than those months
    hold (a small append recomputes its own orders, not the whole month). Otherwise
    (a source that loaded much more: its first load, a re-run of a big file) the months are returned to be
    recomputed whole, as before. Rows a source wrote in an earlier run are recomputed too; they did not change,
    so that is harmless. The views reading the facts still recompute their own touched months (cheap).
    """
    sources = sorted({item.source_id for item in pending})
    months = set()
    for item in pending:
        months.update(_parse_months(item.months)[0])
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
        # random_page_cost (priced for spinning disks) the planner hash-joins every order line instead. For this
        # statement only.
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
