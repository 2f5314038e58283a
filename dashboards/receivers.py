"""Reactions to other apps' events: a committed execution makes the KPI views that read its tables stale, and
its user reads from the primary until the standby has replayed it."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from config.replica import primary_lsn_remember
from mappings.signals import execution_committed

logger = logging.getLogger(__name__)


@receiver(execution_committed, dispatch_uid="dashboards.kpi_refresh_on_execution")
def kpi_refresh_on_execution(sender, job, **kwargs) -> None:
    """Record the touched partitions, then queue one incremental refresh per dependent view (Celery)."""
    from dashboards.services.refresh import kpi_refresh_mark_touched
    from dashboards.tasks import kpi_view_refresh_task

    touched = (job.report or {}).get("touched") or {}
    names = kpi_refresh_mark_touched(touched=touched, source_id=job.source_id)
    for name in names:
        # After commit: the worker must see the pending rows (and the execution's rows).
        transaction.on_commit(lambda name=name: _enqueue(kpi_view_refresh_task, name, job.source_id))
    if names:
        logger.info("execution %s: queued refresh of %s", job.pk, ", ".join(names))


def _enqueue(task, view_name: str, source_id: int | None) -> None:
    try:
        task.delay(view_name=view_name, source_id=source_id)
    except Exception as exc:  # broker down: the pending partitions stay recorded for the next refresh
        logger.warning("could not queue the refresh of %s (%s); it stays pending", view_name, exc)


@receiver(execution_committed, dispatch_uid="dashboards.read_your_own_upload")
def read_your_own_upload(sender, job, **kwargs) -> None:
    """Sent after the commit: the WAL position now covers it; the user's reads wait for the standby to reach it."""
    primary_lsn_remember(user_id=job.created_by_id)


def poll_freshness_connect() -> None:
    """Live-update polls and KPI reads cache the views' freshness (dashboards.polling): drop it when a refresh records
    its state. (Access and scope need no signal: PostgreSQL triggers bump the access generation.)"""
    from django.db.models.signals import post_save

    from dashboards.models import KpiViewState

    post_save.connect(_poll_freshness_changed, sender=KpiViewState, dispatch_uid="dashboards.poll_freshness")


def _poll_freshness_changed(sender, **kwargs) -> None:
    from dashboards.polling import poll_freshness_invalidate

    poll_freshness_invalidate()


def kept_release_connect() -> None:
    """A kept summary no widget reads any more is dropped (`dashboards.services.kept`): when a widget is deleted, or
    saved with a question other than its summary's (edited, or taken out of kept ready)."""
    from django.db.models.signals import post_delete, post_save

    from dashboards.models import Widget

    post_delete.connect(_kept_widget_deleted, sender=Widget, dispatch_uid="dashboards.kept_release.delete")
    post_save.connect(_kept_widget_saved, sender=Widget, dispatch_uid="dashboards.kept_release.save")


def _kept_widget_deleted(sender, instance, **kwargs) -> None:
    name = instance.query_options.get("kept")
    if isinstance(name, str):
        transaction.on_commit(lambda: _kept_release([name]))


def _kept_widget_saved(sender, instance, **kwargs) -> None:
    from dashboards.services.kept import kept_names_in_use

    name = instance.query_options.get("kept")
    if isinstance(name, str) and name not in kept_names_in_use([name]):
        transaction.on_commit(lambda: _kept_release([name]))


def _kept_release(names: list[str]) -> None:
    """After the commit: drop the summaries no widget reads now, unless a refresh of their source is running (then a
    task waits for it, and the source's next refresh drops what is left)."""
    from dashboards.services.kept import kept_questions_release
    from dashboards.services.refresh import RefreshBusy
    from dashboards.tasks import kept_questions_release_task

    try:
        kept_questions_release(names=names, wait=False)
    except RefreshBusy:
        try:
            kept_questions_release_task.delay(names=names)
        except Exception as exc:  # broker down: the source's next refresh drops it
            logger.warning("could not queue the drop of kept summaries %s (%s)", names, exc)
