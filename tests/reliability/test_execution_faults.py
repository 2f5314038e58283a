"""Executions through faults: a worker killed mid-run, two runs of one upload at once.

Real PostgreSQL and, for the kill, a real Celery worker process on the test database.
"""

from __future__ import annotations

import csv
import signal
import threading
from pathlib import Path

import pytest
from django.db import connection

from canonical.models import Customer
from mappings.models import ExecutionJob
from mappings.services.execute import ADVISORY_LOCK_CLASS, execution_enqueue, mapping_execute
from mappings.services.jobs import LOST_REASON
from mappings.services.mapping import mapping_save
from mappings.services.upload import data_source_create
from tests.reliability.conftest import (
    backend_waiting_on_lock,
    raw_connect,
    wait_for,
    wait_for_a_session_waiting_on,
    writes_held,
)
from tests.reliability.conftest import test_database_url as worker_database_url
from tests.reliability.workers import WorkerProcess, broker_queues_clear

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = [
    {"source_col": "customer_id", "canonical_table": "canonical_customers", "canonical_col": "external_id"},
    {"source_col": "company", "canonical_table": "canonical_customers", "canonical_col": "name"},
    {"source_col": "country", "canonical_table": "canonical_customers", "canonical_col": "country"},
    {"source_col": "city", "canonical_table": "canonical_customers", "canonical_col": "city"},
]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def customers_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["customer_id", "company", "country", "city"])
        for i in range(rows):
            writer.writerow([f"C{i:07d}", f"Company {i}", "Germany", "Berlin"])
    return path


def mapped_source(path: Path, user):
    source = data_source_create(file=path, user=user)
    return source, mapping_save(source=source, fields=FIELDS, user=user)


def test_two_executions_of_one_upload_at_once_end_as_one_run(executive, tmp_path, observer, settings):
    settings.EXECUTION_LOCK_WAIT_SECONDS = 120
    source, mapping = mapped_source(customers_csv(tmp_path / "c.csv", 500), executive)
    jobs = [ExecutionJob.objects.create(source=source, mapping=mapping, created_by=executive) for _ in range(2)]

    # Hold the upload's lock so that both runs are started before either can proceed.
    gate = raw_connect()
    gate.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, source.pk])
    reports: dict[str, dict] = {}

    def run(job):
        try:
            reports[str(job.pk)] = mapping_execute(
                job=ExecutionJob.objects.select_related("source", "mapping").get(pk=job.pk)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    wait_for(
        lambda: (
            observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            >= 2
        ),
        what="both executions to wait on the upload's lock",
    )
    gate.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_CLASS, source.pk])
    gate.close()
    for t in threads:
        t.join(timeout=120)

    statuses = sorted(ExecutionJob.objects.filter(pk__in=[j.pk for j in jobs]).values_list("status", flat=True))
    assert statuses == ["succeeded", "succeeded"]
    counts = sorted(
        (r["tables"]["canonical_customers"]["inserted"], r["tables"]["canonical_customers"]["unchanged"])
        for r in reports.values()
    )
    assert counts == [(0, 500), (500, 0)]
    assert Customer.objects.count() == 500


@pytest.mark.celery_worker
def test_a_worker_killed_mid_execution_changes_nothing_and_the_rerun_completes(executive, tmp_path, observer):
    rows = 30_000
    source, mapping = mapped_source(customers_csv(tmp_path / "big.csv", rows), executive)
    broker_queues_clear()
    # A short lease: the redelivered task takes the job over once the killed runner's lease has expired.
    worker = WorkerProcess(
        tmp_path / "worker.log",
        database_url=worker_database_url(),
        extra_env={"EXECUTION_HEARTBEAT_SECONDS": "1", "EXECUTION_LEASE_SECONDS": "3"},
    )
    try:
        worker.wait_ready()
        with writes_held("canonical_customers") as blocker:
            job = execution_enqueue(source=source, mapping=mapping, user=executive)
            wait_for_a_session_waiting_on(blocker, observer)
            assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.RUNNING
            (child,) = worker.pool_children()
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)

        # The killed run's transaction died with its connection: nothing of it is visible.
        assert observer.execute("SELECT count(*) FROM canonical_customers").fetchone()[0] == 0

        lost = wait_for(
            lambda: ExecutionJob.objects.filter(pk=job.pk, status=ExecutionJob.Status.FAILED).first(),
            timeout=60,
            what="the lost job to be marked failed",
        )
        assert "stopped mid-way" in lost.error
        rerun = wait_for(
            lambda: (
                ExecutionJob.objects.filter(source=source)
                .exclude(pk=job.pk)
                .exclude(status__in=[ExecutionJob.Status.QUEUED, ExecutionJob.Status.RUNNING])
                .first()
            ),
            timeout=180,
            what="the re-run to finish",
        )
        assert rerun.status == ExecutionJob.Status.SUCCEEDED, (rerun.error, worker.log()[-4000:])
    finally:
        worker.stop()
    assert lost.error == LOST_REASON.format(new_job=rerun.pk)
    assert rerun.report["tables"]["canonical_customers"]["inserted"] == rows
    assert rerun.report["tables"]["canonical_customers"]["rejected"] == 0
    assert Customer.objects.count() == rows
    assert backend_waiting_on_lock(observer, exclude=set()) is None
