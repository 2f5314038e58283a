"""A job whose whole worker died: the heartbeat stops, celery-beat's sweeper marks it failed, the user re-runs.

Redelivery (tests/reliability/test_execution_faults.py) covers a pool process killed under a live worker.
When the whole worker is gone, Redis hands the message out again only after its visibility timeout (an
hour); the sweeper fails the job within minutes instead, once the runner's lease on the job has expired.
"""

from __future__ import annotations

import signal
import threading
import uuid
from datetime import UTC, timedelta
from io import StringIO

import psutil
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from canonical.models import Customer
from canonical.services import canonical_foreign_keys_validate
from mappings.models import DataSource, ExecutionJob
from mappings.services.execute import execution_enqueue
from mappings.services.jobs import ExecutionLeaseHeld, execution_job_claim, execution_jobs_sweep_stale
from mappings.tasks import execution_jobs_sweep_stale_task
from tests.reliability.conftest import test_database_url as worker_database_url
from tests.reliability.conftest import wait_for, wait_for_a_session_waiting_on, writes_held
from tests.reliability.test_execution_faults import customers_csv, mapped_source
from tests.reliability.workers import WorkerProcess, broker_queues_clear

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def keys_validated_after():
    """A re-run's bulk load queues the validation of its foreign keys after its commit, and the test stops the
    worker before that task may run: validate them here, or they stay NOT VALID in a test database that
    outlives the run (--reuse-db) and the next run's bulk-load test finds them."""
    yield
    canonical_foreign_keys_validate()


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def kill_whole_worker(worker: WorkerProcess) -> None:
    """SIGKILL the worker's main process and its pool: nobody is left to notice or redeliver."""
    parent = psutil.Process(worker.proc.pid)
    processes = [parent, *parent.children(recursive=True)]
    for process in processes:
        process.send_signal(signal.SIGKILL)
    psutil.wait_procs(processes, timeout=10)


def running_job(
    source, mapping, user, *, heartbeat_age: timedelta | None, lease_left: timedelta | None = None
) -> ExecutionJob:
    started = timezone.now() - timedelta(minutes=10)
    return ExecutionJob.objects.create(
        source=source,
        mapping=mapping,
        created_by=user,
        status=ExecutionJob.Status.RUNNING,
        stage="writing canonical_customers",
        started_at=started,
        heartbeat_at=None if heartbeat_age is None else timezone.now() - heartbeat_age,
        lease_until=None if lease_left is None else timezone.now() + lease_left,
        lease_owner=None if lease_left is None else uuid.uuid4(),
    )


@pytest.mark.celery_worker
def test_a_job_whose_whole_worker_was_killed_is_failed_by_the_sweeper_and_the_rerun_completes(
    executive, tmp_path, observer, settings, monkeypatch, client
):
    rows = 30_000
    source, mapping = mapped_source(customers_csv(tmp_path / "big.csv", rows), executive)
    broker_queues_clear()
    monkeypatch.setenv("EXECUTION_HEARTBEAT_SECONDS", "1")  # the worker process reads them from its environment
    monkeypatch.setenv("EXECUTION_LEASE_SECONDS", "3")
    worker = WorkerProcess(tmp_path / "worker.log", database_url=worker_database_url())
    try:
        worker.wait_ready()
        with writes_held("canonical_customers") as blocker:
            job = execution_enqueue(source=source, mapping=mapping, user=executive)
            wait_for_a_session_waiting_on(blocker, observer)
            first_beat = wait_for(
                lambda: (
                    ExecutionJob.objects.filter(pk=job.pk, status="running", heartbeat_at__isnull=False)
                    .values_list("heartbeat_at", flat=True)
                    .first()
                ),
                timeout=60,
                what="the running job's first heartbeat",
            )
            wait_for(
                lambda: ExecutionJob.objects.filter(pk=job.pk, heartbeat_at__gt=first_beat).exists(),
                timeout=30,
                what="the heartbeat to move on while the job runs",
            )
            # The runner keeps its lease ahead of now, so the sweeper leaves its job alone.
            assert ExecutionJob.objects.get(pk=job.pk).lease_until > timezone.now()
            assert execution_jobs_sweep_stale() == []
            assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.RUNNING, worker.log()[-3000:]

            kill_whole_worker(worker)
    finally:
        worker.stop()

    # Nothing of the killed run is visible, and the job still says "running": nobody noticed.
    assert observer.execute("SELECT count(*) FROM canonical_customers").fetchone()[0] == 0
    last_beat = ExecutionJob.objects.get(pk=job.pk).heartbeat_at
    assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.RUNNING

    swept = wait_for(execution_jobs_sweep_stale, timeout=30, interval=0.5, what="the sweeper to fail the job")
    assert swept == [str(job.pk)]
    lost = ExecutionJob.objects.get(pk=job.pk)
    assert lost.status == ExecutionJob.Status.FAILED
    assert lost.error == (
        f"The worker stopped responding at {last_beat.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC; nothing was "
        "written — the transaction was rolled back. Re-run it."
    )
    assert lost.report["errors"] == [lost.error]
    assert DataSource.objects.get(pk=source.pk).status == DataSource.Status.FAILED
    assert execution_jobs_sweep_stale() == []  # swept once

    # The user reads why on the job's page, and re-runs it from the upload's review page on a fresh worker.
    client.force_login(executive)
    assert lost.error in client.get(f"/uploads/jobs/{job.pk}/").content.decode()
    worker = WorkerProcess(tmp_path / "worker2.log", database_url=worker_database_url())
    try:
        worker.wait_ready()
        response = client.post(f"/uploads/{source.pk}/execute/")
        rerun = ExecutionJob.objects.filter(source=source).exclude(pk=job.pk).get()
        assert response.status_code == 302 and response["Location"] == f"/uploads/jobs/{rerun.pk}/"
        rerun = wait_for(
            lambda: ExecutionJob.objects.filter(pk=rerun.pk, status__in=["succeeded", "failed"]).first(),
            timeout=180,
            what="the re-run to finish",
        )
    finally:
        worker.stop()
    assert rerun.status == ExecutionJob.Status.SUCCEEDED, rerun.error
    assert rerun.report["tables"]["canonical_customers"]["inserted"] == rows
    assert Customer.objects.count() == rows
    assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.FAILED


def test_the_sweeper_leaves_a_job_with_a_live_lease_alone_however_old_its_heartbeat(executive, tmp_path):
    source, mapping = mapped_source(customers_csv(tmp_path / "c.csv", 3), executive)
    job = running_job(source, mapping, executive, heartbeat_age=timedelta(hours=1), lease_left=timedelta(seconds=30))
    assert execution_jobs_sweep_stale() == []
    assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.RUNNING


def test_the_sweeper_fails_a_job_whose_lease_expired_however_fresh_its_heartbeat(executive, tmp_path):
    source, mapping = mapped_source(customers_csv(tmp_path / "c.csv", 3), executive)
    DataSource.objects.filter(pk=source.pk).update(status=DataSource.Status.RUNNING)
    job = running_job(source, mapping, executive, heartbeat_age=timedelta(0), lease_left=timedelta(seconds=-1))
    assert execution_jobs_sweep_stale() == [str(job.pk)]
    swept = ExecutionJob.objects.get(pk=job.pk)
    assert (swept.status, swept.lease_owner, swept.lease_until) == (ExecutionJob.Status.FAILED, None, None)
    assert DataSource.objects.get(pk=source.pk).status == DataSource.Status.FAILED


def test_a_redelivered_job_whose_lease_is_live_is_not_run_again(executive, tmp_path):
    source, mapping = mapped_source(customers_csv(tmp_path / "c.csv", 3), executive)
    job = running_job(source, mapping, executive, heartbeat_age=timedelta(0), lease_left=timedelta(seconds=30))
    with pytest.raises(ExecutionLeaseHeld) as held, execution_job_claim(job.pk):
        pytest.fail("a second delivery ran a job whose runner holds its lease")
    assert 25 < held.value.seconds_left <= 30
    assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.RUNNING
    assert ExecutionJob.objects.filter(source=source).count() == 1  # no re-run was created


def test_a_redelivered_job_whose_lease_expired_is_failed_and_run_again_as_a_new_job(executive, tmp_path):
    source, mapping = mapped_source(customers_csv(tmp_path / "c.csv", 3), executive)
    job = running_job(source, mapping, executive, heartbeat_age=timedelta(0), lease_left=timedelta(seconds=-1))
    with execution_job_claim(job.pk) as rerun:
        assert rerun is not None and rerun.pk != job.pk
        assert ExecutionJob.objects.get(pk=rerun.pk).lease_until > timezone.now()
    assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.FAILED
    assert ExecutionJob.objects.get(pk=rerun.pk).lease_owner is None  # released when the delivery ends


def test_of_two_deliveries_of_one_queued_job_at_once_only_one_takes_the_lease(executive, tmp_path):
    source, mapping = mapped_source(customers_csv(tmp_path / "c.csv", 3), executive)
    job = ExecutionJob.objects.create(source=source, mapping=mapping, created_by=executive)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def deliver():
        try:
            barrier.wait()
            try:
                with execution_job_claim(job.pk) as claimed:
                    outcomes.append("ran" if claimed is not None else "nothing")
                    barrier.wait(timeout=10)  # hold the lease while the other delivery tries
            except ExecutionLeaseHeld:
                outcomes.append("leased")
                barrier.wait(timeout=10)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["leased", "ran"]


def test_the_sweeper_fails_a_job_that_never_beat_once_it_is_older_than_the_limit(executive, tmp_path):
    source, mapping = mapped_source(customers_csv(tmp_path / "c.csv", 3), executive)
    job = running_job(source, mapping, executive, heartbeat_age=None)
    finished = ExecutionJob.objects.create(
        source=source,
        mapping=mapping,
        status=ExecutionJob.Status.SUCCEEDED,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    assert execution_jobs_sweep_stale() == [str(job.pk)]
    assert "stopped responding" in ExecutionJob.objects.get(pk=job.pk).error
    assert ExecutionJob.objects.get(pk=finished.pk).status == ExecutionJob.Status.SUCCEEDED


def test_setup_schedules_registers_the_sweeper_every_minute(db):
    call_command("setup_schedules", stdout=StringIO())
    task = PeriodicTask.objects.get(task=execution_jobs_sweep_stale_task.name)
    assert (task.interval.every, task.interval.period) == (1, "minutes")
    assert task.enabled
