"""How fresh each KPI view is: for the per-widget "last refreshed" + stale badge and the status page."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from dashboards.kpi.registry import KpiView, get_view, public_views
from dashboards.models import KpiAlert, KpiViewState, RefreshJob

# A view failing this many refreshes in a row is flagged even while its data is still young enough.
FAILURES_BEFORE_ALERT = 3


def _is_stale(view: KpiView, state: KpiViewState | None, now: datetime) -> bool:
    if state is None or state.last_success_at is None:
        return True
    return now - state.last_success_at > view.max_staleness or state.consecutive_failures >= FAILURES_BEFORE_ALERT


def kpi_view_freshness(view_name: str, *, now: datetime | None = None) -> dict:
    """{"view_name", "refreshed_at", "is_stale", "last_error", "data_through", "alert"} for one view.

    `refreshed_at` is the last successful refresh (None: never built); `alert` the open alert's message.
    Raises KeyError for a view that is not in the registry.
    """
    view = get_view(view_name)
    now = now or timezone.now()
    state = KpiViewState.objects.filter(view_name=view.name).first()
    alert = KpiAlert.objects.filter(view_name=view.name, resolved_at__isnull=True).order_by("-raised_at").first()
    return {
        "view_name": view.name,
        "refreshed_at": state.last_success_at if state else None,
        "is_stale": _is_stale(view, state, now),
        "last_error": (state.last_error if state else "") or "",
        "data_through": state.data_through if state else None,
        "alert": alert.message if alert else None,
    }


def _next_runs(now: datetime) -> dict[str, datetime | None]:
    """When celery-beat will next refresh each view, from its periodic task's schedule (interval or crontab)."""
    from django_celery_beat.models import PeriodicTask

    from dashboards.services.schedules import view_name_of_task

    runs: dict[str, datetime | None] = {}
    tasks = PeriodicTask.objects.filter(enabled=True).select_related("interval", "crontab")
    for task in tasks:
        name = view_name_of_task(task)
        if not name:
            continue
        try:
            base = task.last_run_at or task.date_changed or now
            runs[name] = now + max(task.schedule.remaining_estimate(base), timedelta(0))
        except Exception:  # a schedule celery cannot read (edited by hand): show no estimate
            runs[name] = None
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
                "next_run": next_runs.get(view.name),
                "last_job": job,
            }
        )
    return rows
