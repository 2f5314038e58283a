"""The trigger, the lock and the retry with a real Celery worker process (not eager mode)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from canonical.models import Customer, Product
from dashboards.models import RefreshJob
from dashboards.services.refresh import ADVISORY_LOCK_NAMESPACE, kpi_refresh_mark_touched, kpi_views_refresh_all
from dashboards.tasks import kpi_view_refresh_task
from mappings.services.ingest import ingest_file
from tests.dashboards.kpi_helpers import add_order, scalar
from tests.database import database_url
from tests.reliability.workers import broker_queues_clear

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _dsn() -> str:
    return database_url()


@pytest.fixture
def worker(tmp_path):
    """`celery -A config worker` on the test database and this run's Redis database."""
    broker_queues_clear()  # tasks queued by earlier tests
    env = {**os.environ, "DATABASE_URL": _dsn(), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    log = tmp_path / "worker.log"
    celery = str(Path(sys.executable).parent / "celery")
    command = [celery, "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"kpi-test-{os.getpid()}@%h"]
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, env=env, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        yield log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def wait_for(predicate, log: Path, seconds: float = 60, what: str = "condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}; worker log:\n" + log.read_text()[-3000:])


def _mapping(name: str) -> dict:
    return json.loads((Path(settings.BASE_DIR) / "demo" / "mappings" / name).read_text())


def test_uploading_a_new_orders_file_refreshes_monthly_revenue_without_a_manual_step(
    worker, nw_employees, tmp_path, settings
):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    vinet = Customer.objects.create(external_id="VINET", name="Vins et alcools Chevalier")
    Customer.objects.create(external_id="TOMSP", name="Toms Spezialitäten")
    for ext, name in (("11", "Queso Cabrales"), ("42", "Singaporean Hokkien Fried Mee")):
        Product.objects.create(external_id=ext, name=name, category="Dairy Products")
    add_order(customer=vinet, rep=nw_employees["5"], day=date(1998, 12, 4), amount="100.00")
    kpi_views_refresh_all(full=True)

    orders = tmp_path / "orders.csv"
    orders.write_text(
        "orderID,customerID,employeeID,orderDate,requiredDate,shippedDate,shipVia,freight,shipName,shipAddress,"
        "shipCity,shipRegion,shipPostalCode,shipCountry\n"
        "20001,VINET,5,1999-01-04 00:00:00.000,1999-02-01 00:00:00.000,NULL,3,32.38,Vins,59 rue,Reims,NULL,51100,"
        "France\n"
        "20002,TOMSP,6,1999-01-05 00:00:00.000,1999-02-16 00:00:00.000,1999-01-10 00:00:00.000,1,11.61,Toms,"
        "Luisenstr. 48,Münster,NULL,44087,Germany\n"
    )
    details = tmp_path / "order-details.csv"
    details.write_text("orderID,productID,unitPrice,quantity,discount\n20001,11,14.00,12,0\n20002,42,9.80,10,0.5\n")
    for path, spec in ((orders, _mapping("05-orders.json")), (details, _mapping("06-order-details.json"))):
        source, job = ingest_file(path=path, user=None, fields=spec["mappings"], options=spec.get("options"))
        assert job.status == "succeeded", job.error

    def refreshed():
        return scalar("SELECT sum(revenue) FROM monthly_revenue WHERE month = '1999-01-01'") == Decimal("217.00")

    wait_for(refreshed, worker, what="monthly_revenue for January 1999")
    job = wait_for(
        lambda: (
            RefreshJob.objects.filter(view_name="monthly_revenue", status="succeeded", partitions=["1999-01-01"])
            .exclude(source=None)
            .first()
        ),
        worker,
        what="the incremental refresh_jobs row",
    )
    assert job.mode == "incremental"
    assert scalar("SELECT revenue FROM monthly_revenue WHERE month = '1998-12-01'") == Decimal("100.00")


def test_a_refresh_finding_the_view_locked_is_retried_with_backoff_and_then_succeeds(worker, nw_employees):
    vinet = Customer.objects.create(external_id="VINET", name="Vins et alcools Chevalier")
    kpi_views_refresh_all(full=True)
    add_order(customer=vinet, rep=nw_employees["1"], day=date(2024, 5, 6), amount="42.00")
    kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["2024-05-01"]}})

    with psycopg.connect(_dsn()) as other:
        other.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [ADVISORY_LOCK_NAMESPACE, "monthly_revenue"])
        kpi_view_refresh_task.delay(view_name="monthly_revenue")
        wait_for(
            lambda: RefreshJob.objects.filter(view_name="monthly_revenue", status="skipped").exists(),
            worker,
            what="the refresh to find the lock taken",
        )
        assert scalar("SELECT count(*) FROM monthly_revenue WHERE month = '2024-05-01'") == 0
        other.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [ADVISORY_LOCK_NAMESPACE, "monthly_revenue"])

    job = wait_for(
        lambda: RefreshJob.objects.filter(view_name="monthly_revenue", status="succeeded", attempt__gt=1).first(),
        worker,
        what="the retried refresh",
    )
    assert job.partitions == ["2024-05-01"]
    assert scalar("SELECT revenue FROM monthly_revenue WHERE month = '2024-05-01'") == Decimal("42.00")


def test_a_bulk_load_s_foreign_keys_are_validated_by_the_worker_after_the_commit(worker, tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.EXECUTION_BULK_MIN_ROWS = 10
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order,date,amount,customer,rep\n"
        + "".join(f"B-{n},2024-03-{1 + n % 28:02d},{n}.25,C{n % 4},R{n % 2}\n" for n in range(40))
    )
    fields = [
        {"source_col": "order", "canonical_table": "canonical_orders", "canonical_col": "external_id"},
        {"source_col": "date", "canonical_table": "canonical_orders", "canonical_col": "order_date"},
        {"source_col": "amount", "canonical_table": "canonical_orders", "canonical_col": "amount"},
        {"source_col": "customer", "canonical_table": "canonical_orders", "canonical_col": "customer_id"},
        {"source_col": "rep", "canonical_table": "canonical_orders", "canonical_col": "sales_rep_id"},
    ]
    _, job = ingest_file(path=orders, user=None, fields=fields)
    assert job.status == "succeeded", job.error
    assert job.report["bulk_load"] == ["canonical_orders"]

    def keys_valid():
        return scalar(
            "SELECT bool_and(convalidated) FROM pg_constraint "
            "WHERE conrelid = 'canonical_orders'::regclass AND contype = 'f'"
        )

    wait_for(keys_valid, worker, what="the orders' foreign keys validated by the worker")
    assert "canonical_foreign_keys_validate_task" in worker.read_text()
