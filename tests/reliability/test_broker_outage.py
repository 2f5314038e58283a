"""Redis down: uploads are still accepted, the user is told processing is delayed, and the execution runs
once Redis is back. Redis here is a private redis-server the test starts and stops (never the shared one)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis

from config import embedded
from config.celery_app import app
from mappings.models import DataSource, ExecutionJob
from mappings.services.jobs import STAGE_DELAYED, execution_jobs_resend_delayed
from mappings.services.mapping import mapping_save
from tests.reliability.conftest import test_database_url as worker_database_url
from tests.reliability.conftest import wait_for
from tests.reliability.test_execution_faults import FIELDS, customers_csv
from tests.reliability.workers import WorkerProcess

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or embedded.redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: self._pings(), timeout=20, what="redis-server to start")

    def _pings(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


def _point_celery_at(url: str) -> None:
    # Drop the cached connection and producer pools (not closed: other references may still hold them).
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def private_redis(settings):
    server = PrivateRedis()
    server.start()
    before = app.conf.broker_url
    _point_celery_at(server.url)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}}
    yield server
    server.stop()
    _point_celery_at(before)


def test_with_redis_down_an_upload_is_accepted_and_its_execution_runs_when_redis_returns(
    client, executive, private_redis, tmp_path, settings
):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    private_redis.stop()
    client.force_login(executive)

    with customers_csv(tmp_path / "customers.csv", 200).open("rb") as fh:
        uploaded = client.post("/uploads/", {"file": fh})
    assert uploaded.status_code == 302, uploaded.content.decode()[:500]
    source = DataSource.objects.get()
    mapping_save(source=source, fields=FIELDS, user=executive)

    response = client.post(f"/uploads/{source.pk}/execute/", follow=True)  # to the job page
    assert response.status_code == 200
    job = ExecutionJob.objects.get(source=source)
    assert job.status == ExecutionJob.Status.QUEUED
    assert job.stage == STAGE_DELAYED
    assert "delayed" in response.content.decode()

    private_redis.start()
    worker = WorkerProcess(tmp_path / "worker.log", database_url=worker_database_url(), broker_url=private_redis.url)
    try:
        worker.wait_ready()
        assert execution_jobs_resend_delayed() == 1
        job = wait_for(
            lambda: ExecutionJob.objects.filter(pk=job.pk, status__in=["succeeded", "failed"]).first(),
            timeout=120,
            what="the delayed execution to run",
        )
    finally:
        worker.stop()
    assert job.status == ExecutionJob.Status.SUCCEEDED, job.error
    assert job.report["tables"]["canonical_customers"]["inserted"] == 200


def test_a_delayed_job_is_not_sent_twice(executive, private_redis, tmp_path, settings):
    from mappings.services.upload import data_source_create

    settings.UPLOAD_DIR = tmp_path / "uploads"
    source = data_source_create(file=customers_csv(tmp_path / "c.csv", 5), user=executive)
    mapping = mapping_save(source=source, fields=FIELDS, user=executive)
    job = ExecutionJob.objects.create(source=source, mapping=mapping, stage=STAGE_DELAYED)
    assert execution_jobs_resend_delayed() == 1
    job.refresh_from_db()
    assert job.stage == "queued"
    assert execution_jobs_resend_delayed() == 0
    time.sleep(0)  # nothing else to wait for: the message sits in the private Redis until it is stopped
