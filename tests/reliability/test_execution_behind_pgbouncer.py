"""The job lease behind PgBouncer in transaction mode: a worker whose every statement may run on another
server connection, so no session lock or prepared statement would survive. A worker SIGKILLed mid-load
leaves nothing, its lease expires, the sweeper fails the job, and a re-run loads exactly once."""

from __future__ import annotations

from datetime import UTC

import pytest

from canonical.models import Customer
from canonical.services import canonical_foreign_keys_validate
from mappings.models import DataSource, ExecutionJob
from mappings.services.execute import execution_enqueue
from mappings.services.jobs import execution_jobs_sweep_stale, side_connection
from tests.reliability.conftest import wait_for, wait_for_a_session_waiting_on, writes_held
from tests.reliability.pgbouncer import PgBouncer
from tests.reliability.test_execution_faults import customers_csv, mapped_source
from tests.reliability.test_stale_job_sweeper import kill_whole_worker
from tests.reliability.workers import WorkerProcess, broker_queues_clear

pytestmark = pytest.mark.django_db(transaction=True)

POOLED = {
    "DB_POOL": "0",  # one connection per process, handed to PgBouncer
    "DATABASE_POOLED_BY_PGBOUNCER": "1",
    "EXECUTION_HEARTBEAT_SECONDS": "1",
    "EXECUTION_LEASE_SECONDS": "3",
}


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


@pytest.fixture(autouse=True)
def keys_validated_after():
    yield
    canonical_foreign_keys_validate()


def wait_for_the_lease_renewed(job: ExecutionJob) -> None:
    """The heartbeat renews the job's lease through PgBouncer: it moves on while the load waits."""
    first = wait_for(
        lambda: ExecutionJob.objects.filter(pk=job.pk).values_list("lease_until", flat=True).first(),
        what="the job's lease",
    )
    wait_for(
        lambda: ExecutionJob.objects.filter(pk=job.pk, lease_until__gt=first).exists(),
        timeout=30,
        what="the heartbeat to renew the lease through PgBouncer",
    )


@pytest.fixture
def pgbouncer(tmp_path):
    bouncer = PgBouncer(tmp_path / "pgbouncer")
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.mark.celery_worker
def test_a_worker_killed_mid_load_behind_pgbouncer_is_swept_by_its_lease_and_the_rerun_loads_once(
    executive, tmp_path, observer, pgbouncer
):
    rows = 20_000
    source, mapping = mapped_source(customers_csv(tmp_path / "big.csv", rows), executive)
    broker_queues_clear()
    worker = WorkerProcess(tmp_path / "worker.log", database_url=pgbouncer.url, extra_env=POOLED)
    try:
        worker.wait_ready()
        with writes_held("canonical_customers") as blocker:
            job = execution_enqueue(source=source, mapping=mapping, user=executive)
            wait_for_a_session_waiting_on(blocker, observer)
            wait_for_the_lease_renewed(job)
            assert execution_jobs_sweep_stale() == []
            kill_whole_worker(worker)
    finally:
        worker.stop()
    killed_log = worker.log()

    assert observer.execute("SELECT count(*) FROM canonical_customers").fetchone()[0] == 0
    assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.RUNNING
    swept = wait_for(execution_jobs_sweep_stale, timeout=30, interval=0.5, what="the lease to expire")
    assert swept == [str(job.pk)]
    lost = ExecutionJob.objects.get(pk=job.pk)
    assert lost.status == ExecutionJob.Status.FAILED
    assert f"{lost.heartbeat_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" in lost.error
    assert DataSource.objects.get(pk=source.pk).status == DataSource.Status.FAILED

    worker = WorkerProcess(tmp_path / "worker2.log", database_url=pgbouncer.url, extra_env=POOLED)
    try:
        worker.wait_ready()
        rerun = execution_enqueue(source=source, mapping=mapping, user=executive)
        rerun = wait_for(
            lambda: ExecutionJob.objects.filter(pk=rerun.pk, status__in=["succeeded", "failed"]).first(),
            timeout=180,
            what="the re-run to finish behind PgBouncer",
        )
    finally:
        worker.stop()
    assert rerun.status == ExecutionJob.Status.SUCCEEDED, (rerun.error, worker.log()[-4000:])
    assert rerun.report["tables"]["canonical_customers"]["inserted"] == rows
    assert Customer.objects.count() == rows
    assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.FAILED
    for log in (killed_log, worker.log()):
        assert "prepared statement" not in log and "heartbeat of execution job" not in log
    assert f"login attempt: db={pgbouncer.dbname}" in pgbouncer.log()  # the workers did go through it


@pytest.mark.parametrize(("pooled", "threshold"), [(True, None), (False, 5)])
def test_side_connections_prepare_no_statements_when_pooled_by_pgbouncer(settings, pooled, threshold):
    settings.DATABASE_POOLED_BY_PGBOUNCER = pooled
    conn = side_connection()
    try:
        assert conn.prepare_threshold == threshold
        assert conn.autocommit
    finally:
        conn.close()
