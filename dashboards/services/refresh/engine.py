"""The refresh engine's entry points: refresh one view or all, and record what an execution made stale."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from config.replica import primary_lsn_remember, replica_configured
from dashboards.kpi.kept import kept_teams_name, kept_views_load
from dashboards.kpi.registry import (
    HIERARCHY,
    MONTH_SOURCES,
    KpiView,
    aggregates_of,
    base_views,
    bases_of,
    get_view,
    public_views,
    team_aggregate_of,
)
from dashboards.models import KeptQuestion, KpiPendingRefresh, KpiViewState, RefreshJob
from dashboards.services.refresh.aggregates import _aggregates_before, _aggregates_refresh
from dashboards.services.refresh.order_facts import (
    FULL_REFRESH_WORK_MEM,
    _base_bring_up_to_date,
    _parse_months,
    kpi_bases_rebuild,
)
from dashboards.services.refresh.partitions import (
    AUTO,
    FULL,
    INCREMENTAL,
    RefreshBusy,
    _execute,
    _lock,
    _rebuild_partitions,
    _rollup_full,
    _rollup_incremental,
)
from mappings.models import DataSource

logger = logging.getLogger(__name__)


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
            # Kept summaries of the view that no widget reads any more (a drop that could not run when its last
            # widget went) are dropped now, under the lock, before they would be refreshed.
            from dashboards.services.kept import kept_questions_release

            kept_questions_release(source=view.name, locked=True)
            # Questions kept ready since this process last looked are aggregates of the view: keep them too. Under
            # the lock: keeping one ready takes it as well, so a summary is never built beside a refresh.
            kept_views_load(source=view.name)
            state, _ = KpiViewState.objects.get_or_create(view_name=view.name)
            pending = list(KpiPendingRefresh.objects.filter(view_name=view.name))
            # Aggregates asked to be rebuilt from the view's stored rows (a team aggregate whose hierarchy changed).
            rebuild_pending = list(
                KpiPendingRefresh.objects.filter(view_name__in=[a.name for a in aggregates_of(view)])
            )
            rebuild = {item.view_name for item in rebuild_pending}
            named, all_named_readable = _parse_months(months)
            wanted = set(named)
            readable = all_named_readable
            for item in pending:
                item_months, item_readable = _parse_months(item.months)
                wanted.update(item_months)
                readable = readable and item_readable
            full = (
                mode == FULL
                or view.strategy == FULL
                or state.last_success_at is None
                or any(item.full for item in pending)
                or not readable  # a month that is not a date: refresh every month rather than fail
            )
            partitions = sorted(wanted)
            # The base's own pending months were recorded with the view's (kpi_refresh_mark_touched), so only
            # months the caller names are added: a second view reading the same base does not redo them.
            for base in bases_of(view):
                _base_bring_up_to_date(base, full=full and rebuild_bases, months=named, wait=wait)
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
        # A kept question's tables are small and read by index-only scans: vacuumed after every change, so their
        # pages stay all-visible (an index-only scan of a page that is not visits the table's row too).
        if effective == FULL or aggregate.name in rebuild or (aggregate.kept and partitions):
            _vacuum(aggregate)
    return RefreshResult(view.name, effective, duration_ms, rows, job.partitions, job.pk)


def _vacuum(view: KpiView) -> None:
    """VACUUM (ANALYZE) a dashboard-facing table after its full refresh, once that has committed.

    A full refresh deletes every row and inserts them again (readers keep the old rows until it commits), so
    it leaves the whole previous table as dead rows, which a manager's read walks through its scope index
    until autovacuum comes by. Plain VACUUM does not block readers. It cannot run inside a transaction (tests, an
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
            table_months, readable = (
                _parse_months(touched[table].get("months")) if isinstance(touched[table], dict) else ([], True)
            )
            if table in MONTH_SOURCES and table_months and readable:
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
        # Kept questions' team rows too (registered or not in this process: read from their rows).
        for name, declaration in KeptQuestion.objects.values_list("name", "declaration"):
            if declaration.get("teams"):
                KpiPendingRefresh.objects.create(
                    view_name=kept_teams_name(name), months=[], full=True, source_id=source_id
                )
                if declaration["aggregate_of"] not in names:
                    names.append(declaration["aggregate_of"])
    return names


def kpi_refresh_read_your_own(*, source_id: int) -> None:
    """After a refresh that an upload queued: the uploader's reads stay on the primary until the standby has
    replayed it (config.replica), so their dashboards never show the upload missing. No standby: nothing."""
    if not replica_configured():
        return
    uploader = DataSource.objects.filter(pk=source_id).values_list("uploaded_by_id", flat=True).first()
    primary_lsn_remember(user_id=uploader)
