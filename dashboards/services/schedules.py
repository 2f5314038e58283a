"""celery-beat schedules for the KPI views, in django-celery-beat's database scheduler (editable in admin)."""

from __future__ import annotations

import json

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from dashboards.kpi.registry import public_views

REFRESH_TASK = "dashboards.tasks.kpi_view_refresh_task"
STALENESS_TASK = "dashboards.tasks.kpi_staleness_check_task"
STALENESS_EVERY_MINUTES = 5
EXECUTION_SWEEP_TASK = "mappings.tasks.execution_jobs_sweep_stale_task"
FOREIGN_KEYS_TASK = "canonical.tasks.canonical_foreign_keys_validate_task"
SCOPES_PRUNE_TASK = "dashboards.tasks.kpi_read_scopes_prune_task"
NIGHTLY_HOUR = 2  # UTC: views refreshed once a day run at night, a few minutes apart
# The periodic tasks beside the refreshes: (name, task, every how many seconds, description).
HOUSEKEEPING = (
    (
        "KPI staleness check",
        STALENESS_TASK,
        STALENESS_EVERY_MINUTES * 60,
        "Alerts for KPI views past their maximum staleness or failing repeatedly.",
    ),
    (
        "Execution jobs: sweep stopped workers",
        EXECUTION_SWEEP_TASK,
        60,
        "Marks failed the running executions whose worker stopped responding (stale heartbeat).",
    ),
    (
        "Canonical tables: validate foreign keys after bulk loads",
        FOREIGN_KEYS_TASK,
        3600,
        "Validates the foreign keys a bulk load re-added NOT VALID, if the task queued after the load did not run "
        "(broker down). Nothing to do most hours.",
    ),
    (
        "KPI read scopes: prune old ones",
        SCOPES_PRUNE_TASK,
        24 * 3600,
        "Deletes the stored read scopes over a week old (hierarchy changes leave old ones behind); a scope still "
        "in use is stored again by its next read.",
    ),
)


def task_name_for_view(view_name: str) -> str:
    return f"KPI refresh: {view_name}"


def view_name_of_task(task: PeriodicTask) -> str | None:
    if task.task != REFRESH_TASK:
        return None
    try:
        return json.loads(task.kwargs or "{}").get("view_name")
    except ValueError:
        return None


def _interval(seconds: int) -> IntervalSchedule:
    if seconds % 3600 == 0:
        every, period = seconds // 3600, IntervalSchedule.HOURS
    elif seconds % 60 == 0:
        every, period = seconds // 60, IntervalSchedule.MINUTES
    else:
        every, period = seconds, IntervalSchedule.SECONDS
    schedule, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
    return schedule


def _nightly(minutes_after: int) -> CrontabSchedule:
    # Past 59 minutes the next hour (20 views and more: minute 60 is no crontab and would never run).
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=str(minutes_after % 60),
        hour=str((NIGHTLY_HOUR + minutes_after // 60) % 24),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    return schedule


@transaction.atomic
def schedules_ensure() -> int:
    """Create the missing periodic tasks: a full refresh per view, and the `HOUSEKEEPING` ones (the staleness
    check, the sweeper of executions whose worker died, the foreign-key validation).

    A view refreshed every 24 hours runs nightly (crontab, 02:00 UTC plus a few minutes per view so they do
    not all start at once); others run at their interval. Existing tasks are left alone: a schedule edited
    in Django admin survives a deploy. Returns how many tasks were created.
    """
    created = 0
    for index, view in enumerate(public_views()):
        seconds = int(view.refresh_interval.total_seconds())
        when = {"crontab": _nightly(3 * index)} if seconds == 24 * 3600 else {"interval": _interval(seconds)}
        _, was_created = PeriodicTask.objects.get_or_create(
            name=task_name_for_view(view.name),
            defaults={
                "task": REFRESH_TASK,
                **when,
                "kwargs": json.dumps({"view_name": view.name, "mode": "full"}),
                "description": f"Full refresh of KPI view {view.name} ({view.strategy} strategy).",
            },
        )
        created += was_created
    for name, task, seconds, description in HOUSEKEEPING:
        _, was_created = PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": _interval(seconds), "description": description}
        )
        created += was_created
    return created
