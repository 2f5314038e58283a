"""Execution jobs through faults: a broker that is down, a worker killed mid-run, a task delivered twice.

- `execution_send` hands a job to Celery after its row is committed. When Redis is unreachable the job
  stays `queued` with the stage `STAGE_DELAYED` (the page says processing is delayed) and
  `execution_jobs_resend_delayed` (celery-beat, every minute) sends it again once the broker is back.
- `execution_job_claim` runs at the start of every delivery of the task and takes the job's lease: one
  UPDATE sets `lease_owner` and `lease_until` only where the job is queued or running and no live lease
  is on it. A heartbeat thread renews the lease every EXECUTION_HEARTBEAT_SECONDS on its own autocommit
  connection, for EXECUTION_LEASE_SECONDS. A delivery that finds a live lease does not run the job: the
  task retries once the lease would have expired. A delivery that takes over a `running` job whose
  lease expired knows its runner died (SIGKILL, OOM, restart) and PostgreSQL rolled its transaction
  back; the job is marked failed with that reason and a new job re-runs the same mapping.
- Leases are rows, not session locks, so this works the same through PgBouncer in transaction mode.
- `execution_jobs_sweep_stale` (celery-beat, every minute) covers the case redelivery cannot: the whole
  worker died and no other worker will see the message before Redis's visibility timeout (an hour). A
  running job whose lease expired is marked failed with the reason; the user re-runs it. A late
  redelivery of its message then finds it failed and does nothing.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from mappings.models import DataSource, ExecutionJob

logger = logging.getLogger(__name__)

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


class ExecutionLeaseHeld(Exception):
    """Another delivery holds the job's lease; it may be taken over once the lease has expired."""

    def __init__(self, job_id, seconds_left: float):
        super().__init__(f"execution job {job_id} is leased for {seconds_left:.0f} s more")
        self.seconds_left = seconds_left


# One statement, so two deliveries cannot both take the job: the second waits on the row lock and then
# finds the lease live. A `running` job with an expired (or no) lease lost its runner.
_LEASE_TAKE = """
UPDATE execution_jobs
   SET lease_owner = %(owner)s, lease_until = now() + make_interval(secs => %(lease)s), heartbeat_at = now()
 WHERE id = %(job)s
   AND status IN ('queued', 'running')
   AND (lease_until IS NULL OR lease_until < now())
RETURNING status
"""


@contextmanager
def execution_job_claim(job_id) -> Iterator[ExecutionJob | None]:
    """Yield the job to run in this delivery, or None when there is nothing to do.

    Takes the job's lease (`lease_until`, renewed by the heartbeat while the block runs). A job that
    was `running` under an expired lease lost its runner: it is failed with the reason and a new job
    re-runs it. Raises ExecutionLeaseHeld when another delivery's lease is still live. Only plain
    statements on rows: it works the same through PgBouncer in transaction mode.
    """
    owner = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(_LEASE_TAKE, {"owner": owner, "lease": settings.EXECUTION_LEASE_SECONDS, "job": str(job_id)})
        taken = cursor.fetchone()
    if taken is None:
        held = ExecutionJob.objects.filter(
            pk=job_id, status__in=[ExecutionJob.Status.QUEUED, ExecutionJob.Status.RUNNING]
        ).values_list("lease_until", flat=True)
        if held:
            # No lease_until here means it was released a moment ago: look again soon.
            until = held[0] or timezone.now()
            logger.info("execution job %s is leased by another delivery until %s", job_id, until)
            raise ExecutionLeaseHeld(job_id, max(0.0, (until - timezone.now()).total_seconds()))
        yield None  # finished, failed or gone: nothing to do
        return
    job = ExecutionJob.objects.select_related("source", "mapping").get(pk=job_id)
    if job.status == ExecutionJob.Status.RUNNING:
        job = _execution_job_replace_lost(job)
        owner = job.lease_owner
    try:
        with execution_heartbeat(job.pk, owner):
            yield job
    finally:
        ExecutionJob.objects.filter(pk=job.pk, lease_owner=owner).update(lease_until=None, lease_owner=None)


def _execution_job_replace_lost(lost: ExecutionJob) -> ExecutionJob:
    """Mark a job whose runner died as failed, with the reason, and return the new job that re-runs it."""
    retry = ExecutionJob.objects.create(
        source=lost.source,
        mapping=lost.mapping,
        created_by=lost.created_by,
        stage="queued",
        report={**(lost.report or {}), "errors": []},
        lease_owner=uuid.uuid4(),
        lease_until=timezone.now() + timedelta(seconds=settings.EXECUTION_LEASE_SECONDS),
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


def side_connection() -> psycopg.Connection:
    """A new autocommit session on the default database, outside Django's connection (and transaction).

    Behind PgBouncer in transaction mode (DATABASE_POOLED_BY_PGBOUNCER) it prepares no statements: the
    next statement may run on another server connection, which never saw the PREPARE.
    """
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    if settings.DATABASE_POOLED_BY_PGBOUNCER:
        params["prepare_threshold"] = None
    return psycopg.connect(autocommit=True, **params)


class _Heartbeat(threading.Thread):
    def __init__(self, job_id, owner, interval: float):
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id, self.owner, self.interval, self.stopped = job_id, owner, interval, threading.Event()

    def run(self) -> None:
        try:
            conn = side_connection()
        except psycopg.Error:  # the lease then runs out: the sweeper may fail the job while it still runs
            logger.warning("heartbeat connection failed for execution job %s", self.job_id, exc_info=True)
            return
        try:
            while True:
                try:
                    renewed = conn.execute(
                        "UPDATE execution_jobs SET heartbeat_at = now(), "
                        "lease_until = now() + make_interval(secs => %s) "
                        "WHERE id = %s AND lease_owner = %s AND status IN ('queued', 'running')",
                        [settings.EXECUTION_LEASE_SECONDS, self.job_id, self.owner],
                    ).rowcount
                    if not renewed:
                        logger.warning("execution job %s: lease lost (swept or finished)", self.job_id)
                except psycopg.Error:
                    logger.warning("heartbeat of execution job %s failed", self.job_id, exc_info=True)
                if self.stopped.wait(self.interval):
                    return
        finally:
            conn.close()


@contextmanager
def execution_heartbeat(job_id, owner) -> Iterator[None]:
    """Renew the job's lease (and `heartbeat_at`) now and every EXECUTION_HEARTBEAT_SECONDS until the block ends."""
    beat = _Heartbeat(job_id, owner, settings.EXECUTION_HEARTBEAT_SECONDS)
    beat.start()
    try:
        yield
    finally:
        beat.stopped.set()
        beat.join(timeout=10)


def execution_jobs_sweep_stale() -> list[str]:
    """Fail the running jobs whose lease expired with no worker left to notice; returns their ids.

    A live runner renews its lease every EXECUTION_HEARTBEAT_SECONDS, so an expired lease means its
    process died (or lost the database for longer than EXECUTION_LEASE_SECONDS); PostgreSQL rolled its
    transaction back when its connection went, so nothing was written. A running job with no lease at
    all (started before leases) counts as expired once it started more than a lease ago. Each job is
    failed by one conditional UPDATE, so a redelivery taking the job over at the same moment wins or
    loses cleanly.
    """
    now = timezone.now()
    expired = Q(lease_until__lt=now) | Q(
        lease_until__isnull=True, started_at__lt=now - timedelta(seconds=settings.EXECUTION_LEASE_SECONDS)
    )
    stale = ExecutionJob.objects.filter(expired, status=ExecutionJob.Status.RUNNING)
    swept = []
    for job_id, heartbeat_at, started_at, source_id in stale.values_list(
        "pk", "heartbeat_at", "started_at", "source_id"
    ):
        reason = STALE_REASON.format(heartbeat=(heartbeat_at or started_at).astimezone(UTC))
        with transaction.atomic():
            marked = (
                ExecutionJob.objects.filter(expired, pk=job_id, status=ExecutionJob.Status.RUNNING)
                .select_for_update()
                .first()
            )
            if marked is None:
                continue
            marked.status, marked.stage, marked.error = ExecutionJob.Status.FAILED, "failed", reason
            marked.finished_at, marked.lease_until, marked.lease_owner = timezone.now(), None, None
            marked.report = {**(marked.report or {}), "errors": [reason]}
            marked.save(
                update_fields=["status", "stage", "error", "finished_at", "lease_until", "lease_owner", "report"]
            )
            DataSource.objects.filter(pk=source_id, status=DataSource.Status.RUNNING).update(
                status=DataSource.Status.FAILED, error=reason
            )
        logger.warning("execution job %s: lease expired, worker stopped responding; marked failed", job_id)
        swept.append(str(job_id))
    return swept
