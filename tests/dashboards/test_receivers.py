from __future__ import annotations

import pytest

from dashboards.models import KpiPendingRefresh
from dashboards.tasks import kpi_view_refresh_task
from mappings.models import DataSource, ExecutionJob, Mapping
from mappings.signals import execution_committed

pytestmark = pytest.mark.django_db(transaction=True)  # the receiver queues after commit


def committed_job(touched: dict) -> ExecutionJob:
    source = DataSource.objects.create(name="orders.csv", file_path="orders.csv", sha256="0" * 64)
    mapping = Mapping.objects.create(source=source, version=1)
    return ExecutionJob.objects.create(source=source, mapping=mapping, status="succeeded", report={"touched": touched})


def test_an_execution_queues_one_refresh_per_dependent_view_with_its_months(monkeypatch):
    queued = []
    monkeypatch.setattr(kpi_view_refresh_task, "delay", lambda **kw: queued.append(kw))
    job = committed_job({"canonical_expenses": {"months": ["2024-03-01"], "employee_ids": [1]}})

    execution_committed.send(sender=ExecutionJob, job=job)

    # The expenses' monthly KPI view and the expenses dataset (questions over the facts themselves).
    assert queued == [
        {"view_name": "monthly_expenses", "source_id": job.source_id},
        {"view_name": "dataset_expenses", "source_id": job.source_id},
    ]
    pending = {p.view_name: (p.months, p.full) for p in KpiPendingRefresh.objects.all()}
    assert pending == {"monthly_expenses": (["2024-03-01"], False), "dataset_expenses": (["2024-03-01"], False)}


def test_an_execution_that_changed_nothing_queues_nothing(monkeypatch):
    queued = []
    monkeypatch.setattr(kpi_view_refresh_task, "delay", lambda **kw: queued.append(kw))
    execution_committed.send(sender=ExecutionJob, job=committed_job({}))  # what a re-run reports: no table
    assert queued == [] and not KpiPendingRefresh.objects.exists()


def test_with_the_broker_down_the_partitions_stay_pending(monkeypatch):
    def down(**kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(kpi_view_refresh_task, "delay", down)
    execution_committed.send(sender=ExecutionJob, job=committed_job({"canonical_orders": {"months": ["2024-01-01"]}}))
    assert KpiPendingRefresh.objects.filter(view_name="monthly_revenue", months=["2024-01-01"]).exists()


def test_an_executed_employees_file_refreshes_the_views_that_show_employees_and_its_rerun_nothing(
    monkeypatch, tmp_path, settings
):
    from tests.mappings.helpers import field, run, upload_text

    settings.UPLOAD_DIR = tmp_path / "uploads"
    queued = []
    monkeypatch.setattr(kpi_view_refresh_task, "delay", lambda **kw: queued.append(kw["view_name"]))
    text = "id,name,boss\nE1,Andrew Fuller,\nE2,Nancy Davolio,E1\n"
    fields = [
        field("id", "canonical_employees", "external_id"),
        field("name", "canonical_employees", "name"),
        field("boss", "canonical_employees", "manager_id"),
    ]

    job = run(upload_text(tmp_path, text, name="employees.csv"), fields)

    # An employees file lists canonical_employees without keys: the rep names of sales_rep_performance changed.
    assert job.status == "succeeded", job.error
    assert "canonical_employees" in job.report["touched"]
    assert "sales_rep_performance" in queued
    assert KpiPendingRefresh.objects.filter(view_name="sales_rep_performance", full=True).exists()

    queued.clear()
    pending = KpiPendingRefresh.objects.count()
    again = run(upload_text(tmp_path, text, name="employees-again.csv"), fields)
    assert again.report["touched"] == {} and queued == []
    assert KpiPendingRefresh.objects.count() == pending
