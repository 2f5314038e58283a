from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from canonical.models import Customer, Product
from dashboards.kpi.registry import KPI_VIEWS, public_views
from dashboards.models import KpiPendingRefresh, KpiViewState, RefreshJob
from dashboards.services.refresh import (
    ADVISORY_LOCK_NAMESPACE,
    RefreshBusy,
    kpi_refresh_mark_touched,
    kpi_view_refresh,
    kpi_views_refresh_all,
    partitions,
)
from dashboards.services.schedules import schedules_ensure
from tests.dashboards.kpi_helpers import add_order, all_tables, scalar, table_rows
from tests.database import database_conninfo

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(nw_employees):
    alfki = Customer.objects.create(external_id="ALFKI", name="Alfreds", country="Germany")
    chai = Product.objects.create(external_id="1", name="Chai", category="Beverages", cost=Decimal("10"))
    add_order(customer=alfki, rep=nw_employees["1"], day=date(2024, 1, 10), lines=[(chai, "2", "18.00", "0")])
    add_order(customer=alfki, rep=nw_employees["5"], day=date(2024, 2, 3), lines=[(chai, "1", "18.00", "0.5")])
    kpi_views_refresh_all(full=True)
    return {"alfki": alfki, "chai": chai, "employees": nw_employees}


def xmin_of_month(month: str) -> list[str]:
    return [r[0] for r in _fetch("SELECT xmin::text FROM monthly_revenue WHERE month = %s", [month])]


def _fetch(query, params):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def test_incremental_refresh_recomputes_only_the_touched_months(shop):
    untouched_before = xmin_of_month("2024-01-01")
    add_order(customer=shop["alfki"], rep=shop["employees"]["1"], day=date(2024, 3, 5), amount="100.00")
    kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["2024-03-01"]}})

    result = kpi_view_refresh(view_name="monthly_revenue")

    assert result.mode == "incremental"
    assert result.partitions == ["2024-03-01"]
    assert scalar("SELECT revenue FROM monthly_revenue WHERE month = '2024-03-01'") == Decimal("100.00")
    assert xmin_of_month("2024-01-01") == untouched_before  # rows of other months were left alone
    job = RefreshJob.objects.get(pk=result.job_id)
    assert (job.status, job.mode, job.rows, job.partitions) == ("succeeded", "incremental", 3, ["2024-03-01"])
    assert not KpiPendingRefresh.objects.filter(view_name="monthly_revenue").exists()


def test_per_customer_rollup_adds_only_the_difference_and_matches_a_full_refresh(shop):
    add_order(customer=shop["alfki"], rep=shop["employees"]["1"], day=date(2024, 1, 20), amount="50.00")
    kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["2024-01-01"]}})

    assert kpi_view_refresh(view_name="top_customers").mode == "incremental"
    incremental = table_rows("top_customers")
    kpi_view_refresh(view_name="top_customers", mode="full")

    assert incremental == table_rows("top_customers")
    assert scalar("SELECT revenue FROM top_customers WHERE sales_rep_id = %s", [shop["employees"]["1"].pk]) == Decimal(
        "86.00"
    )


def test_a_touched_table_without_months_makes_the_refresh_full(shop):
    names = kpi_refresh_mark_touched(touched={"canonical_customers": {"customer_ids": [shop["alfki"].pk]}})

    assert "monthly_revenue" in names and "inventory_status" not in names
    assert kpi_view_refresh(view_name="monthly_revenue").mode == "full"


def test_a_refresh_with_nothing_pending_changes_nothing(shop):
    before = all_tables()
    result = kpi_view_refresh(view_name="monthly_revenue")
    assert (result.mode, result.partitions, result.rows) == ("incremental", [], 2)
    assert all_tables() == before


def test_a_failed_refresh_keeps_the_previous_rows_and_records_the_failure(shop, monkeypatch):
    before = table_rows("monthly_revenue")
    kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["2024-01-01"]}})
    monkeypatch.setattr(partitions, "view_sql", lambda name: "SELECT no_such_column FROM canonical_orders")

    with pytest.raises(Exception, match="no_such_column"):
        kpi_view_refresh(view_name="monthly_revenue")

    assert table_rows("monthly_revenue") == before
    job = RefreshJob.objects.filter(view_name="monthly_revenue").first()
    assert job.status == "failed" and "no_such_column" in job.error
    state = KpiViewState.objects.get(view_name="monthly_revenue")
    assert state.consecutive_failures == 1 and "no_such_column" in state.last_error
    assert KpiPendingRefresh.objects.filter(view_name="monthly_revenue").exists()  # still waiting for a retry


@pytest.mark.django_db(transaction=True)  # each refresh commits (and releases its lock) as in production
def test_a_second_refresh_of_the_same_view_does_not_run_while_one_holds_the_lock(shop):
    with psycopg.connect(database_conninfo(), autocommit=False) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [ADVISORY_LOCK_NAMESPACE, "monthly_revenue"])
        with pytest.raises(RefreshBusy):
            kpi_view_refresh(view_name="monthly_revenue", wait=False)
        kpi_view_refresh(view_name="gross_margin", wait=False)  # other views are not blocked
    assert RefreshJob.objects.filter(view_name="monthly_revenue").first().status == "skipped"


def test_refresh_views_prints_the_contract_json(shop):
    out = StringIO()
    call_command("refresh_views", "--full", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data["views"]) == {v.name for v in public_views()}
    assert data["views"]["monthly_revenue"]["mode"] == "full"
    assert data["views"]["monthly_revenue"]["rows"] == 2
    assert isinstance(data["views"]["monthly_revenue"]["duration_ms"], int)


def test_refresh_views_of_one_view_only_refreshes_that_view(shop):
    out = StringIO()
    call_command("refresh_views", "--view", "top_products", "--json", stdout=out)
    assert list(json.loads(out.getvalue())["views"]) == ["top_products"]


def test_refresh_views_rejects_an_unknown_view_by_name(db):
    with pytest.raises(CommandError, match="unknown KPI view 'revenue'"):
        call_command("refresh_views", "--view", "revenue")


def test_schedules_are_created_once_per_view_and_kept_when_edited(db):
    # + staleness check + execution sweeper + validation of foreign keys after bulk loads + read scopes' prune
    assert schedules_ensure() == len(public_views()) + 4
    keys = PeriodicTask.objects.get(task="canonical.tasks.canonical_foreign_keys_validate_task")
    assert (keys.interval.every, keys.interval.period) == (1, "hours")
    nightly = PeriodicTask.objects.get(name="KPI refresh: monthly_revenue")
    assert json.loads(nightly.kwargs) == {"view_name": "monthly_revenue", "mode": "full"}
    assert (nightly.crontab.hour, nightly.interval) == ("2", None)  # full refreshes of big views run at night
    hourly = PeriodicTask.objects.get(name="KPI refresh: ar_aging")
    assert (hourly.interval.every, hourly.interval.period) == (1, "hours")
    hourly.interval.every = 3
    hourly.interval.save()
    assert schedules_ensure() == 0
    assert PeriodicTask.objects.get(name="KPI refresh: ar_aging").interval.every == 3


def test_setup_schedules_command_reports_what_it_created(db):
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    assert f"({len(public_views()) + 4} created)" in out.getvalue()


def test_an_incremental_refresh_keeps_the_views_row_count_exact_without_counting_it_again(shop):
    add_order(customer=shop["alfki"], rep=shop["employees"]["3"], day=date(2024, 3, 5), amount="100.00")
    add_order(customer=shop["alfki"], rep=shop["employees"]["1"], day=date(2024, 1, 20), amount="5.00")
    kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["2024-03-01", "2024-01-01"]}})

    result = kpi_view_refresh(view_name="sales_rep_performance")

    assert result.mode == "incremental"
    assert result.rows == scalar("SELECT count(*) FROM sales_rep_performance") == 3
    state = KpiViewState.objects.get(view_name="sales_rep_performance")
    assert (state.rows, state.data_through) == (3, date(2024, 3, 1))


def test_every_counted_kpi_table_keeps_its_emptied_rows_in_a_partial_index(db):
    counted = {v.name: v.count_column for v in KPI_VIEWS.values() if v.count_column}
    indexed = dict(
        _fetch(
            "SELECT tablename, indexdef FROM pg_indexes WHERE indexname = tablename || '_emptied' "
            "AND tablename = ANY(%s)",
            [list(counted)],
        )
    )

    assert set(indexed) == set(counted)
    for table, count in counted.items():
        assert indexed[table].endswith(f"WHERE ({count} = 0)"), indexed[table]


def test_an_entity_whose_orders_all_went_leaves_every_per_entity_table(shop):
    feb = _fetch("SELECT id FROM canonical_orders WHERE order_date = '2024-02-03'", [])[0][0]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM canonical_order_lines WHERE order_id = %s", [feb])
        cursor.execute("DELETE FROM canonical_orders WHERE id = %s", [feb])
    kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["2024-02-01"]}})
    rep5 = shop["employees"]["5"].pk

    assert kpi_view_refresh(view_name="top_customers").mode == "incremental"
    assert kpi_view_refresh(view_name="top_products").mode == "incremental"

    assert scalar("SELECT count(*) FROM top_customers WHERE sales_rep_id = %s", [rep5]) == 0
    assert scalar("SELECT count(*) FROM top_products WHERE sales_rep_id = %s", [rep5]) == 0
    for view in [v for v in KPI_VIEWS.values() if v.count_column]:
        assert scalar(f'SELECT count(*) FROM "{view.name}" WHERE "{view.count_column}" = 0') == 0, view.name
    incremental = {
        name: table_rows(name)
        for name in ("top_customers", "top_products", "top_customers_teams", "top_products_teams")
    }
    kpi_view_refresh(view_name="top_customers", mode="full")
    kpi_view_refresh(view_name="top_products", mode="full")
    assert incremental == {name: table_rows(name) for name in incremental}
