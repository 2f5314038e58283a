"""A big workbook is converted and profiled by a real Celery worker, never in the upload request."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile

from mappings.models import DataSource
from tests.reliability.conftest import test_database_url as worker_database_url
from tests.reliability.conftest import wait_for
from tests.reliability.workers import WorkerProcess

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

SUPERSTORE = Path(__file__).resolve().parents[1] / "data" / "real" / "superstore_orders.xls"


def test_a_big_workbook_upload_answers_converting_and_the_worker_profiles_it(client, executive, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.UPLOAD_CONVERT_SYNC_BYTES = 1024 * 1024  # the 3.4 MB workbook is "big"
    redis.Redis.from_url(settings.REDIS_URL).delete("celery")  # tasks other tests queued with no worker
    worker = WorkerProcess(tmp_path / "worker.log", database_url=worker_database_url())
    try:
        worker.wait_ready()
        client.force_login(executive)

        response = client.post("/uploads/", {"file": SimpleUploadedFile(SUPERSTORE.name, SUPERSTORE.read_bytes())})

        assert response.status_code == 302
        source = DataSource.objects.get()
        # The request stored the bytes and nothing more: no CSV, no profile yet.
        assert source.status == DataSource.Status.CONVERTING
        assert source.profile == {} and source.rows is None
        assert 'data-testid="converting"' in client.get(f"/uploads/{source.pk}/").content.decode()

        done = wait_for(
            lambda: DataSource.objects.exclude(status=DataSource.Status.CONVERTING).filter(pk=source.pk).first(),
            timeout=120,
            what="the worker to convert the upload",
        )
        assert done.status == DataSource.Status.PROFILED, done.error + worker.log()[-2000:]
        assert (done.rows, done.progress, done.dialect["sheet"]) == (10194, 1.0, "Orders")
        assert {c["name"] for c in done.profile["columns"]} >= {"Order ID", "Order Date", "Sales"}
        assert "data_source_convert_task" in worker.log()
        poll = client.get(f"/uploads/{source.pk}/?partial=conversion", HTTP_HX_REQUEST="true")
        assert poll["HX-Refresh"] == "true"
    finally:
        worker.stop()
