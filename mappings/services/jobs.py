"""Execution jobs through faults: a broker that is down, a worker killed mid-run, a task delivered twice.

- `execution_send` hands a job to Celery after its row is committed. When Redis is unreachable the job
  stays `queued` with the stage `STAGE_DELAYED` (the page says processing is delayed) and
  `execution_jobs_resend_delayed` (celery-beat, every minute) sends it again once the broker is back.
- `execution_job_claim` runs at the start of every delivery of the task. A session advisory lock per job
  tells a live runner from a dead one: when the lock is free but the job says `running`, the worker that
  ran it died (SIGKILL, OOM, restart) and PostgreSQL rolled its transaction back; the job is marked
  failed with that reason and a new job re-runs the same mapping. When the lock is held, another
  delivery is running the job right now and this one does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone

from mappings.models import DataSource, ExecutionJob

logger = logging.getLogger(__name__)

JOB_LOCK_CLASS = 7_202  # first key of pg_try_advisory_lock(int, int): "a delivery is running this job"
STAGE_DELAYED = "delayed: task queue unavailable, runs when it is back"
LOST_REASON = (
    "The worker running this execution stopped mid-way (killed or restarted); nothing was loaded. "
    "It was run again as job {new_job}."
)


def execution_send(job_id: str) -> bool:
    """Queue the job's task; on a broker failure mark the job delayed instead of failing the request."""
    from mappings.tasks import execute_job

    try:
        execute_job.apply_async(
            args=[str(job_id)], retry=True, retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
        )
    except Exception:  # kombu.OperationalError, redis ConnectionError, socket errors: the broker is down
        logger.warning("task queue unavailable; execution job %s delayed", job_id, exc_info=True)
        ExecutionJob.objects.filter(pk=job_id, status=ExecutionJob.Status.QUEUED).update(stage=STAGE_DELAYED)
        return False
    ExecutionJob.objects.filter(pk=job_id, stage=STAGE_DELAYED).update(stage="queued")
    return True


def execution_jobs_resend_delayed() -> int:
    """Send again every job delayed by a broker outage; returns how many were sent."""
    sent = 0
    for job_id in ExecutionJob.objects.filter(status=ExecutionJob.Status.QUEUED, stage=STAGE_DELAYED).values_list(
        "pk", flat=True
    ):
        sent += execution_send(str(job_id))
    return sent


def _lock_key(job_id) -> list:
    return [JOB_LOCK_CLASS, str(job_id)]


@contextmanager
def execution_job_claim(job_id) -> Iterator[ExecutionJob | None]:
    """Yield the job to run in this delivery, or None when there is nothing to do.

    Holds a session advisory lock on the job for the duration, so another delivery can tell that
    this one is alive.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", _lock_key(job_id))
        claimed = cursor.fetchone()[0]
    if not claimed:
        logger.info("execution job %s is being run by another delivery; skipping", job_id)
        yield None
        return
    try:
        job = ExecutionJob.objects.select_related("source", "mapping").filter(pk=job_id).first()
        if job is not None and job.status == ExecutionJob.Status.RUNNING:
            job = _execution_job_replace_lost(job)
        if job is None or job.status != ExecutionJob.Status.QUEUED:
            yield None
        else:
            yield job
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", _lock_key(job_id))


def _execution_job_replace_lost(lost: ExecutionJob) -> ExecutionJob:
    """Mark a job whose runner died as failed, with the reason, and return the new job that re-runs it."""
    retry = ExecutionJob.objects.create(
        source=lost.source,
        mapping=lost.mapping,
        created_by=lost.created_by,
        stage="queued",
        report={**(lost.report or {}), "errors": []},
    )
    reason = LOST_REASON.format(new_job=retry.pk)
    report = dict(lost.report or {})
    report["errors"] = [reason]
    ExecutionJob.objects.filter(pk=lost.pk).update(
        status=ExecutionJob.Status.FAILED, stage="failed", error=reason, report=report, finished_at=timezone.now()
    )
    DataSource.objects.filter(pk=lost.source_id).update(status=DataSource.Status.QUEUED)
    logger.warning("execution job %s lost its worker; re-running as %s", lost.pk, retry.pk)
    return ExecutionJob.objects.select_related("source", "mapping").get(pk=retry.pk)
