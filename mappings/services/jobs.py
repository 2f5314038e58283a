"""Execution jobs through faults: a broker that is down, a worker killed mid-run, a task delivered twice.

- `execution_send` hands a job to Celery after its row is committed. When Redis is unreachable the job
  stays `queued` with the stage `STAGE_DELAYED` (the page says processing is delayed) and
  `execution_jobs_resend_delayed` (celery-beat, every minute) sends it again once the broker is back.
- `execution_job_claim` runs at the start of every delivery of the task. A session advisory lock per job
  tells a live runner from a dead one: when the lock is free but the job says `running`, the worker that
  ran it died (SIGKILL, OOM, restart) and PostgreSQL rolled its transaction back; the job is marked
  failed with that reason and a new job re-runs the same mapping. When the lock is held, another
  delivery is running the job right now and this one does nothing.
- While a delivery runs the job, a heartbeat thread writes `heartbeat_at` every
  EXECUTION_HEARTBEAT_SECONDS on its own autocommit connection.
- `execution_jobs_sweep_stale` (celery-beat, every minute) covers the case redelivery cannot: the whole
  worker died and no other worker will see the message before Redis's visibility timeout (an hour). A
  running job whose heartbeat is older than EXECUTION_STALE_AFTER_SECONDS, and whose job lock is free
  (so the runner's session, and its transaction, are gone), is marked failed with the reason; the user
  re-runs it. A late redelivery of its message then finds it failed and does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta

import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from mappings.models import DataSource, ExecutionJob

logger = logging.getLogger(__name__)

JOB_LOCK_CLASS = 7_202  # first key of pg_try_advisory_lock(int, int): "a delivery is running this job"
STAGE_DELAYED = "delayed: task queue unavailable, runs when it is back"
LOST_REASON = (
    "The worker running this execution stopped mid-way (killed or restarted); nothing was loaded. "
    "It was run again as job {new_job}."
)
STALE_REASON = (
    "The worker stopped responding at {heartbeat:%Y-%m-%d %H:%M:%S} UTC; nothing was written — the "
    "transaction was rolled back. Re-run it."
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
            with execution_heartbeat(job.pk):
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


def _side_connection() -> psycopg.Connection:
    """A new autocommit session on the default database, outside Django's connection (and transaction)."""
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return psycopg.connect(autocommit=True, **params)


class _Heartbeat(threading.Thread):
    def __init__(self, job_id, interval: float):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id, self.interval, self.stopped = job_id, interval, threading.Event()

    def run(self) -> None:
        try:
            conn = _side_connection()
        except psycopg.Error:  # the sweeper then relies on the job lock alone: it never fails a live job
            logger.warning("heartbeat connection failed for execution job %s", self.job_id, exc_info=True)
            return
        try:
            while True:
                try:
                    conn.execute(
                        "UPDATE execution_jobs SET heartbeat_at = now() "
                        "WHERE id = %s AND status IN ('queued', 'running')",
                        [self.job_id],
                    )
                except psycopg.Error:
                    logger.warning("heartbeat of execution job %s failed", self.job_id, exc_info=True)
                if self.stopped.wait(self.interval):
                    return
        finally:
            conn.close()


@contextmanager
def execution_heartbeat(job_id) -> Iterator[None]:
    """Write the job's `heartbeat_at` now and every EXECUTION_HEARTBEAT_SECONDS until the block ends."""
    beat = _Heartbeat(job_id, settings.EXECUTION_HEARTBEAT_SECONDS)
    beat.start()
    try:
        yield
    finally:
        beat.stopped.set()
        beat.join(timeout=10)


def execution_jobs_sweep_stale(*, stale_after: timedelta | None = None) -> list[str]:
    """Fail the running jobs whose process died with no worker left to notice; returns their ids.

    A job is swept when its heartbeat (or, before the first beat, its start) is older than `stale_after`
    (default EXECUTION_STALE_AFTER_SECONDS) AND its job lock is free: a live runner holds that lock on the
    session of its transaction, so a free lock proves the transaction is gone and nothing was written.
    A job whose lock is still held is left alone, however old its heartbeat. The sweeper holds the lock
    only while it marks the job, and releases only that lock.
    """
    if stale_after is None:
        stale_after = timedelta(seconds=settings.EXECUTION_STALE_AFTER_SECONDS)
    cutoff = timezone.now() - stale_after
    stale = ExecutionJob.objects.filter(status=ExecutionJob.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    swept = []
    for job_id, heartbeat_at, started_at, source_id in stale.values_list(
        "pk", "heartbeat_at", "started_at", "source_id"
    ):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", _lock_key(job_id))
            if not cursor.fetchone()[0]:
                logger.warning("execution job %s has a stale heartbeat but its runner still holds it", job_id)
                continue
        try:
            reason = STALE_REASON.format(heartbeat=(heartbeat_at or started_at).astimezone(UTC))
            marked = ExecutionJob.objects.filter(pk=job_id, status=ExecutionJob.Status.RUNNING).update(
                status=ExecutionJob.Status.FAILED, stage="failed", error=reason, finished_at=timezone.now()
            )
            if marked:
                job = ExecutionJob.objects.get(pk=job_id)
                job.report = {**(job.report or {}), "errors": [reason]}
                job.save(update_fields=["report"])
                DataSource.objects.filter(pk=source_id, status=DataSource.Status.RUNNING).update(
                    status=DataSource.Status.FAILED, error=reason
                )
                logger.warning("execution job %s: worker stopped responding; marked failed", job_id)
                swept.append(str(job_id))
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", _lock_key(job_id))
    return swept
