"""A misread file loads orders dated in year 1 (or a month no Python date holds) and its execution report
names those months. The receiver records them and the refresh that follows never crashes: year 1 is
refreshed like any month, and a month it cannot read makes that view refresh in full instead."""

from __future__ import annotations

import pytest
from django.db import connection

from dashboards.models import KpiPendingRefresh, RefreshJob
from dashboards.services.refresh import kpi_view_refresh, kpi_views_refresh_all
from dashboards.tasks import kpi_view_refresh_task
from mappings.models import DataSource, ExecutionJob, Mapping
from mappings.signals import execution_committed
from tests.mappings.helpers import field, run, upload_text

pytestmark = pytest.mark.django_db(transaction=True)  # the receiver runs when the execution commits

FIELDS = [
    field("order", "canonical_orders", "external_id"),
    field("date", "canonical_orders", "order_date"),
    field("amount", "canonical_orders", "amount"),
]


@pytest.fixture
def queued(monkeypatch, tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    names: list[str] = []
    monkeypatch.setattr(kpi_view_refresh_task, "delay", lambda **kw: names.append(kw["view_name"]))
    return names


def _refresh_queued(names: list[str]) -> dict[str, str]:
    for name in dict.fromkeys(names):
        kpi_view_refresh(view_name=name)
    names.clear()
    return {job.view_name: job.status for job in RefreshJob.objects.order_by("pk")}


def test_an_execution_of_orders_dated_in_year_one_refreshes_without_crashing(tmp_path, queued):
    run(upload_text(tmp_path, "order,date,amount\nO1,2024-03-05,10\n", name="good.csv"), FIELDS)
    kpi_views_refresh_all()  # every view built once: the next refresh is incremental
    queued.clear()
    RefreshJob.objects.all().delete()

    job = run(upload_text(tmp_path, "order,date,amount\nO2,0001-02-15,99\n", name="misread.csv"), FIELDS)

    assert job.status == ExecutionJob.Status.SUCCEEDED, job.error
    months = job.report["touched"]["canonical_orders"]["months"]
    assert len(months) == 1 and months[0].lstrip("0").startswith("1-02")  # what the real report says
    pending = KpiPendingRefresh.objects.get(view_name="monthly_revenue")
    assert (pending.months, pending.full) == (["0001-02-01"], False)
    assert queued
    statuses = _refresh_queued(queued)
    assert set(statuses.values()) == {RefreshJob.Status.SUCCEEDED}, RefreshJob.objects.values("view_name", "error")
    assert RefreshJob.objects.get(view_name="monthly_revenue").partitions == ["0001-02-01"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM monthly_revenue WHERE month = '0001-02-01'")
        assert cursor.fetchone()[0] == 1


def test_a_month_the_refresh_cannot_read_refreshes_the_whole_view(tmp_path, queued):
    run(upload_text(tmp_path, "order,date,amount\nO1,2024-03-05,10\n", name="good.csv"), FIELDS)
    kpi_views_refresh_all()
    queued.clear()
    RefreshJob.objects.all().delete()
    source = DataSource.objects.create(name="odd.csv", file_path="odd.csv", sha256="1" * 64)
    job = ExecutionJob.objects.create(
        source=source,
        mapping=Mapping.objects.create(source=source, version=1),
        status="succeeded",
        report={"touched": {"canonical_orders": {"months": ["2024-03-01", "0044-03-01 BC", None, "20000-01-01"]}}},
    )

    execution_committed.send(sender=ExecutionJob, job=job)

    assert KpiPendingRefresh.objects.get(view_name="monthly_revenue").full is True
    statuses = _refresh_queued(queued)
    assert set(statuses.values()) == {RefreshJob.Status.SUCCEEDED}, RefreshJob.objects.values("view_name", "error")
    assert RefreshJob.objects.get(view_name="monthly_revenue").mode == "full"


def test_a_pending_month_written_before_this_fix_falls_back_to_a_full_refresh(tmp_path, queued):
    run(upload_text(tmp_path, "order,date,amount\nO1,2024-03-05,10\n", name="good.csv"), FIELDS)
    kpi_views_refresh_all()
    RefreshJob.objects.all().delete()
    KpiPendingRefresh.objects.create(view_name="monthly_revenue", months=["1-02-01 BC"], full=False)

    result = kpi_view_refresh(view_name="monthly_revenue")

    assert result.mode == "full"
    assert not KpiPendingRefresh.objects.filter(view_name="monthly_revenue").exists()
