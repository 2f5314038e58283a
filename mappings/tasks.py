"""Celery tasks of the mappings app: thin, load by id and call a service."""

from __future__ import annotations

from celery import shared_task

from mappings.services.execute import mapping_execute
from mappings.services.jobs import (
    ExecutionLeaseHeld,
    execution_job_claim,
    execution_jobs_resend_delayed,
    execution_jobs_sweep_stale,
)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None)
def execute_job(self, job_id: str) -> None:
    """Run a queued execution. A worker killed mid-way leaves the canonical tables untouched (one
    transaction); the redelivered task waits for the dead runner's lease to expire, then marks that job
    failed and runs the mapping again as a new job."""
    try:
        with execution_job_claim(job_id) as job:
            if job is not None:
                mapping_execute(job=job)
    except ExecutionLeaseHeld as held:
        # A live runner keeps renewing the lease, so this only re-checks once per lease while it runs.
        raise self.retry(countdown=held.seconds_left + 1) from None


@shared_task(ignore_result=True)
def execution_jobs_resend_delayed_task() -> int:
    """Send again the executions that could not be queued while the broker was down."""
    return execution_jobs_resend_delayed()


@shared_task(ignore_result=True)
def execution_jobs_sweep_stale_task() -> int:
    """Fail the running executions whose worker stopped responding (celery-beat, every minute)."""
    return len(execution_jobs_sweep_stale())


@shared_task(ignore_result=True)
def data_source_scan_task(source_id: int) -> None:
    """Count a big upload's rows and ragged rows after the upload (the profile estimated them), and give its
    profile the whole file's number and date ranges (it showed the sample's)."""
    from mappings.models import DataSource
    from mappings.services.profile import data_source_profile_figures
    from mappings.services.upload import data_source_scan

    source = DataSource.objects.filter(pk=source_id).first()
    if source is not None:
        data_source_profile_figures(source=data_source_scan(source=source))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def data_source_convert_task(source_id: int) -> None:
    """Convert and profile a big upload after the request (the upload page polls its progress)."""
    from mappings.models import DataSource
    from mappings.services.convert import data_source_convert

    source = DataSource.objects.filter(pk=source_id).first()
    if source is not None:
        data_source_convert(source=source)
