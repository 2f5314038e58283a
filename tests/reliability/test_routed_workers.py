"""Routed workers: executions go to the `ingest` queue, KPI refreshes to `refresh`, so a refresh runs on its
own worker while a long ingest holds the ingest worker. Real Celery worker processes, one per queue."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from dashboards.models import RefreshJob
from dashboards.services.refresh import kpi_views_refresh_all
from dashboards.tasks import kpi_view_refresh_task
from mappings.models import ExecutionJob
from mappings.services.execute import execution_enqueue
from tests.reliability.conftest import test_database_url as worker_database_url
from tests.reliability.conftest import wait_for, wait_for_a_session_waiting_on, writes_held
from tests.reliability.test_execution_faults import customers_csv, mapped_source
from tests.reliability.workers import routed_workers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def test_executions_and_refreshes_are_routed_to_their_own_queues():
    route = settings.CELERY_TASK_ROUTES
    assert route["mappings.tasks.execute_job"] == {"queue": "ingest"}
    assert route["dashboards.tasks.kpi_view_refresh_task"] == {"queue": "refresh"}
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "default"
    assert [q.name for q in settings.CELERY_TASK_QUEUES] == ["ingest", "refresh", "default"]


def refresh_during_a_held_ingest(*, source, mapping, user, observer) -> ExecutionJob:
    """Execute `mapping` on the ingest worker, held inside its transaction (a long ingest), and queue a full refresh
    of monthly_revenue meanwhile. Asserts the refresh finished while the ingest still ran; returns the execution
    once its table is free and it has finished."""
    queued_after = timezone.now()
    with writes_held("canonical_customers") as blocker:
        job = execution_enqueue(source=source, mapping=mapping, user=user)
        wait_for_a_session_waiting_on(blocker, observer)
        kpi_view_refresh_task.delay(view_name="monthly_revenue", mode="full")
        wait_for(
            lambda: RefreshJob.objects.filter(
                view_name="monthly_revenue", status="succeeded", created_at__gt=queued_after
            ).exists(),
            timeout=60,
            what="the refresh to finish during the ingest",
        )
        assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.RUNNING
    return wait_for(
        lambda: ExecutionJob.objects.filter(pk=job.pk, status__in=["succeeded", "failed"]).first(),
        timeout=120,
        what="the ingest to finish once its table is free",
    )


@pytest.mark.celery_worker
def test_a_refresh_finishes_on_its_worker_while_a_long_ingest_holds_the_ingest_worker(executive, tmp_path, observer):
    kpi_views_refresh_all(full=True)
    source, mapping = mapped_source(customers_csv(tmp_path / "c.csv", 2_000), executive)
    with routed_workers(tmp_path, database_url=worker_database_url()) as workers:
        done = refresh_during_a_held_ingest(source=source, mapping=mapping, user=executive, observer=observer)
        assert done.status == ExecutionJob.Status.SUCCEEDED, done.error
        refresh_received, execute_received = (
            f"Task {name}[" for name in ("dashboards.tasks.kpi_view_refresh_task", "mappings.tasks.execute_job")
        )
        assert refresh_received in workers.refresh.log() and refresh_received not in workers.ingest.log()
        assert execute_received in workers.ingest.log() and execute_received not in workers.refresh.log()
