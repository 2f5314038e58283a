"""How fresh each KPI view is: for the per-widget "last refreshed" + stale badge and the status page."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from django.db import connections
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from dashboards.kpi.registry import KPI_VIEWS, KpiView, get_view, public_views
from dashboards.models import KpiAlert, KpiViewState, RefreshJob
from dashboards.services.schedules import view_name_of_task

# A view failing this many refreshes in a row is flagged even while its data is still young enough.
FAILURES_BEFORE_ALERT = 3
_SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def _sql(name: str) -> str:
    return (_SQL_DIR / name).read_text()


def _stale(view: KpiView, last_success_at: datetime | None, failures: int, now: datetime) -> bool:
    if last_success_at is None:
        return True
    return now - last_success_at > view.max_staleness or failures >= FAILURES_BEFORE_ALERT


def _is_stale(view: KpiView, state: KpiViewState | None, now: datetime) -> bool:
    if state is None:
        return True
    return _stale(view, state.last_success_at, state.consecutive_failures, now)


def kpi_views_freshness(view_names, *, now: datetime | None = None, using: str = "default") -> dict[str, dict]:
    """`kpi_view_freshness` of several views in ONE query (a dashboard's widgets need it on every read).

    A name that is not in the registry gets `{"refreshed_at": None, "is_stale": True, "last_error": ...}`.
    `using`: the database alias, `replica` for the standby the KPI rows are read from (the same snapshot age).
    """
    names = sorted(set(view_names))
    now = now or timezone.now()
    with connections[using].cursor() as cursor:
        cursor.execute(_sql("kpi_freshness.sql"), {"names": names})
        found = {row[0]: row[1:] for row in cursor.fetchall()}
    out: dict[str, dict] = {}
    for name in names:
        view = KPI_VIEWS.get(name)
        if view is None:
            out[name] = {"refreshed_at": None, "is_stale": True, "last_error": f"KPI view {name!r} no longer exists"}
            continue
        last_success_at, failures, last_error, data_through, rows, alert = found[name]
        out[name] = {
            "view_name": name,
            "refreshed_at": last_success_at,
            "is_stale": _stale(view, last_success_at, failures or 0, now),
            "last_error": last_error or "",
            "data_through": data_through,
            "rows": rows,  # the whole view's, every scope: 0 means there is no data for it at all yet
            "alert": alert,
        }
    return out


def kpi_view_freshness(view_name: str, *, now: datetime | None = None) -> dict:
    """{"view_name", "refreshed_at", "is_stale", "last_error", "data_through", "rows", "alert"} for one view.

    `refreshed_at` is the last successful refresh (None: never built); `alert` the open alert's message.
    Raises KeyError for a view that is not in the registry.
    """
    view = get_view(view_name)
    return kpi_views_freshness([view.name], now=now)[view.name]


def _schedule_label(task: PeriodicTask) -> str:
    """The schedule as celery-beat runs it ("every 6 hours", "At 02:03 AM UTC"), edits in the admin included."""
    if task.interval_id:
        return str(task.interval)
    if task.crontab_id:
        return task.crontab.human_readable
    schedule = task.clocked or task.solar
    return str(schedule) if schedule else ""


def _next_runs(now: datetime) -> dict[str, tuple[datetime | None, str]]:
    """When celery-beat will next refresh each view and on what schedule, from its periodic task (interval or
    crontab) as stored: the admin edits that, not the view's declared interval."""
    runs: dict[str, tuple[datetime | None, str]] = {}
    tasks = PeriodicTask.objects.filter(enabled=True).select_related("interval", "crontab", "clocked", "solar")
    for task in tasks:
        name = view_name_of_task(task)
        if not name:
            continue
        try:
            label = _schedule_label(task)
            base = task.last_run_at or task.date_changed or now
            runs[name] = (now + max(task.schedule.remaining_estimate(base), timedelta(0)), label)
        except Exception:  # a schedule celery cannot read (edited by hand): show no estimate
            runs[name] = (None, "")
    return runs


def kpi_views_status(*, now: datetime | None = None) -> list[dict]:
    """One row per dashboard-facing view for the status page: last refresh, duration, rows, freshness, next run."""
    now = now or timezone.now()
    states = {s.view_name: s for s in KpiViewState.objects.all()}
    alerts = {a.view_name: a for a in KpiAlert.objects.filter(resolved_at__isnull=True).order_by("raised_at")}
    next_runs = _next_runs(now)
    last_jobs = {}
    for job in RefreshJob.objects.order_by("view_name", "-created_at").distinct("view_name"):
        last_jobs[job.view_name] = job
    rows = []
    for view in public_views():
        state = states.get(view.name)
        job = last_jobs.get(view.name)
        rows.append(
            {
                "view": view,
                "refreshed_at": state.last_success_at if state else None,
                "age": (now - state.last_success_at) if state and state.last_success_at else None,
                "mode": state.last_mode if state else "",
                "duration_ms": state.last_duration_ms if state else None,
                "rows": state.rows if state else None,
                "data_through": state.data_through if state else None,
                "failures": state.consecutive_failures if state else 0,
                "last_error": state.last_error if state else "",
                "is_stale": _is_stale(view, state, now),
                "alert": alerts.get(view.name),
                "next_run": next_runs.get(view.name, (None, ""))[0],
                "schedule": next_runs.get(view.name, (None, ""))[1],
                "last_job": job,
            }
        )
    return rows
