"""The scale-out topology end to end (`make test-scaleout`): dashboard reads on a streaming standby under the same
row-level security, executions behind PgBouncer with uploads only in S3 and a worker killed mid-load, a refresh
on its own worker during a long ingest, and read-your-own-upload against a standby whose replay is paused."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.selectors import user_row_scope
from canonical.models import Customer
from config.replica import PRIMARY, REPLICA, read_alias
from dashboards import selectors
from dashboards.kpi.query import kpi_query_build
from dashboards.kpi.registry import KPI_VIEWS
from dashboards.models import Dashboard, RefreshJob
from dashboards.services.refresh import kpi_views_refresh_all
from mappings.models import DataSource, ExecutionJob
from mappings.services.execute import execution_enqueue
from mappings.services.jobs import execution_jobs_sweep_stale
from mappings.services.mapping import mapping_save
from mappings.services.sources import data_source_upload
from mappings.services.storage import upload_files_drop_local, upload_storage_is_local
from tests.factories import Role, persona
from tests.mappings.helpers import ORDER_FIELDS
from tests.reliability.conftest import (
    wait_for,
    wait_for_a_session_waiting_on,
    writes_held,
)
from tests.reliability.test_execution_behind_pgbouncer import wait_for_the_lease_renewed
from tests.reliability.test_execution_faults import customers_csv, mapped_source
from tests.reliability.test_routed_workers import refresh_during_a_held_ingest
from tests.reliability.test_stale_job_sweeper import kill_whole_worker
from tests.scaleout.conftest import replayed

pytestmark = [pytest.mark.scaleout, pytest.mark.django_db(transaction=True, databases=["default", REPLICA])]

CONTRACT_REVENUE = {"fuller": 1265793.04, "buchanan": 344581.71, "davolio": 192107.60}
READ_SQL = "set_config('ledgerlight.kpi_scope'"


@pytest.fixture(autouse=True)
def kpi_tables_emptied_after():
    """KPI summary tables are not Django models: a transactional test's flush leaves their rows."""
    yield
    from psycopg import sql

    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(v) for v in KPI_VIEWS)))
    cache.clear()


@pytest.fixture
def demo(db):
    """The Northwind demo (seed_demo: its uploads executed, dashboards, users), every KPI view built, all replayed
    on the standby."""
    call_command("seed_demo", stdout=io.StringIO())
    kpi_views_refresh_all(full=True)
    replayed()
    cache.clear()
    return None


def test_the_app_reads_a_standby_and_stores_uploads_in_s3():
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is False
    assert not upload_storage_is_local()


def test_each_roles_dashboard_read_on_the_standby_equals_the_primarys_and_the_contract(demo):
    from accounts.models import User

    sales = Dashboard.objects.get(slug="sales-overview")
    for username, revenue in CONTRACT_REVENUE.items():
        user = User.objects.get(username=username)
        assert read_alias(user) == REPLICA
        client = APIClient()
        client.force_authenticate(user)
        with CaptureQueriesContext(connections[REPLICA]) as on_standby:
            payload = client.get(f"/api/dashboard/{sales.pk}/data").json()
        assert sum(q["sql"].count(READ_SQL) for q in on_standby.captured_queries) == 1, username
        (widget,) = [w for w in payload["widgets"] if w["title"] == "Revenue"]
        assert widget["rows"] == [{"revenue": revenue}], username
        # Every row the role may see, read on both servers through the one scoped read: the same.
        scope = user_row_scope(user)
        query = kpi_query_build(view_name="monthly_revenue", options=None, filters=None)
        rows = {}
        for alias in (REPLICA, PRIMARY):
            cache.clear()
            stamp = selectors.kpi_freshness("monthly_revenue", using=alias)["refreshed_at"]
            rows[alias] = selectors._rows_for_scope(scope, [query], [stamp], using=alias)[0]
        assert rows[REPLICA] == rows[PRIMARY] and rows[REPLICA], username


def test_an_execution_behind_pgbouncer_with_its_upload_only_in_s3_survives_a_killed_worker_and_loads_once(
    executive, tmp_path, observer, workers
):
    rows = 20_000
    source, mapping = mapped_source(customers_csv(tmp_path / "big.csv", rows), executive)
    upload_files_drop_local(source)  # the workers are other machines: they have only the bucket
    with writes_held("canonical_customers") as blocker:
        job = execution_enqueue(source=source, mapping=mapping, user=executive)
        wait_for_a_session_waiting_on(blocker, observer)
        wait_for_the_lease_renewed(job)
        kill_whole_worker(workers.ingest)
    assert observer.execute("SELECT count(*) FROM canonical_customers").fetchone()[0] == 0
    swept = wait_for(execution_jobs_sweep_stale, timeout=30, interval=0.5, what="the lease to expire")
    assert swept == [str(job.pk)]
    assert ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.FAILED
    assert DataSource.objects.get(pk=source.pk).status == DataSource.Status.FAILED

    worker = workers.restart_ingest()
    rerun = execution_enqueue(source=source, mapping=mapping, user=executive)
    rerun = wait_for(
        lambda: ExecutionJob.objects.filter(pk=rerun.pk, status__in=["succeeded", "failed"]).first(),
        timeout=180,
        what="the re-run to finish behind PgBouncer",
    )
    assert rerun.status == ExecutionJob.Status.SUCCEEDED, (rerun.error, worker.log()[-4000:])
    assert rerun.report["tables"]["canonical_customers"]["inserted"] == rows
    assert Customer.objects.count() == rows
    assert "prepared statement" not in worker.log()


def test_a_refresh_finishes_on_its_worker_during_a_long_ingest(executive, tmp_path, observer, workers):
    kpi_views_refresh_all(full=True)
    source, mapping = mapped_source(customers_csv(tmp_path / "c.csv", 2_000), executive)
    upload_files_drop_local(source)
    done = refresh_during_a_held_ingest(source=source, mapping=mapping, user=executive, observer=observer)
    assert done.status == ExecutionJob.Status.SUCCEEDED, done.error


def revenue_of_month(user, month: date) -> float | None:
    rows = selectors.kpi_rows_for_user(user=user, view_name="monthly_revenue")
    found = [r["revenue"] for r in rows if str(r["month"]) == month.isoformat()]
    return sum(found) if found else None


def test_an_uploader_reads_their_upload_from_the_primary_until_the_standby_replays_it(demo, tmp_path, workers):
    from accounts.models import User

    executive = User.objects.get(username="fuller")
    colleague = persona("colleague", Role.ANALYST)
    month = date(2031, 1, 1)
    path = tmp_path / "orders.csv"
    path.write_text("order,date,amount,customer,rep\nRYOU-1,2031-01-15,12345.67,ALFKI,1\n", encoding="utf-8")
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        started = timezone.now()
        with path.open("rb") as fh:
            source = data_source_upload(file=fh, name="orders.csv", user=executive).source
        mapping = mapping_save(source=source, fields=ORDER_FIELDS, user=executive)
        job = execution_enqueue(source=source, mapping=mapping, user=executive)
        job = wait_for(
            lambda: ExecutionJob.objects.filter(pk=job.pk, status__in=["succeeded", "failed"]).first(),
            timeout=120,
            what="the execution on the ingest worker",
        )
        assert job.status == ExecutionJob.Status.SUCCEEDED, job.error
        wait_for(
            lambda: RefreshJob.objects.filter(
                view_name="monthly_revenue", status="succeeded", created_at__gt=started
            ).exists(),
            timeout=120,
            what="the refresh the execution queued",
        )
        # (No cache.clear() here: the cache holds what the workers remembered of the uploader's commits.)
        # The standby stands still: the uploader reads the primary and sees the upload; a colleague does not yet.
        assert read_alias(executive) == PRIMARY
        assert read_alias(colleague) == REPLICA
        assert revenue_of_month(executive, month) == pytest.approx(12345.67)
        assert revenue_of_month(colleague, month) is None
    finally:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
    # The other refreshes the execution queued may still be committing (each remembers its position): wait until
    # the standby has them all, as the uploader's next reads do.
    wait_for(lambda: read_alias(executive) == REPLICA, timeout=60, interval=0.2, what="the standby to catch up")
    assert revenue_of_month(executive, month) == pytest.approx(12345.67)
    assert revenue_of_month(colleague, month) == pytest.approx(12345.67)
