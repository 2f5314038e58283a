"""Celery tasks of the mappings app: thin, load by id and call a service."""

from __future__ import annotations

from celery import shared_task

from mappings.models import ExecutionJob
from mappings.services.execute import mapping_execute


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def execute_job(job_id: str) -> None:
    """Run a queued execution. A worker killed mid-way leaves the canonical tables untouched (one
    transaction); the redelivered task runs the job again from the start."""
    job = ExecutionJob.objects.select_related("source", "mapping").filter(pk=job_id).first()
    if job is None or job.status == ExecutionJob.Status.SUCCEEDED:
        return
    mapping_execute(job=job)
