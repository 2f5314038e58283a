"""A KPI refresh that dies mid-way leaves the previous data in place, and readers never wait for a refresh.

The refresh is held mid-transaction (after it has rewritten the view's rows, before it records its
state) by a second session that holds the view's state row; the test then kills it or reads around it.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F

from canonical.models import OrderLine
from dashboards.models import KpiViewState, RefreshJob
from dashboards.selectors import kpi_rows_for_user
from dashboards.services.refresh import kpi_view_refresh
from tests.reliability.conftest import backend_waiting_on_lock, raw_connect, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

VIEW = "monthly_revenue"
NORTHWIND_TOTAL = Decimal("1265793.04")


@pytest.fixture
def northwind(nw_employees):
    from tests.dashboards.northwind import load_northwind_sales

    load_northwind_sales(nw_employees)
    return nw_employees


def _total(conn) -> Decimal:
    return conn.execute(f'SELECT round(coalesce(sum(revenue), 0), 2) FROM "{VIEW}"').fetchone()[0]


def _raise_one_line(extra_quantity: int) -> Decimal:
    """Sell `extra_quantity` more on one undiscounted line; returns the revenue added."""
    line = OrderLine.objects.filter(discount=0, unit_price__gt=0).order_by("pk").first()
    OrderLine.objects.filter(pk=line.pk).update(quantity=F("quantity") + extra_quantity)
    return line.unit_price * extra_quantity


class RefreshThread(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.error: BaseException | None = None

    def run(self):
        try:
            kpi_view_refresh(view_name=VIEW, mode="full")
        except BaseException as exc:  # the test inspects it
            self.error = exc
        finally:
            connection.close()


def _hold_state_row(blocker) -> None:
    blocker.execute("BEGIN")
    blocker.execute(f"SELECT 1 FROM {KpiViewState._meta.db_table} WHERE view_name = %s FOR UPDATE", [VIEW])


def test_a_refresh_whose_connection_is_killed_leaves_the_previous_data_and_the_next_refresh_succeeds(
    northwind, observer
):
    kpi_view_refresh(view_name=VIEW, mode="full")
    assert _total(observer) == NORTHWIND_TOTAL
    added = _raise_one_line(10)

    blocker = raw_connect()
    _hold_state_row(blocker)
    refresh = RefreshThread()
    refresh.start()
    pid = wait_for(
        lambda: backend_waiting_on_lock(observer, exclude={blocker.info.backend_pid}),
        what="the refresh to reach its state update",
    )
    assert _total(observer) == NORTHWIND_TOTAL  # mid-refresh, readers see the previous rows

    observer.execute("SELECT pg_terminate_backend(%s)", [pid])
    blocker.rollback()  # the failed refresh records its failure on that same state row
    blocker.close()
    refresh.join(timeout=30)

    assert refresh.error is not None
    assert _total(observer) == NORTHWIND_TOTAL
    failed = RefreshJob.objects.filter(view_name=VIEW).order_by("-pk").first()
    assert failed.status == RefreshJob.Status.FAILED
    assert "terminat" in failed.error.lower() or "connection" in failed.error.lower()

    result = kpi_view_refresh(view_name=VIEW, mode="full")
    assert result.rows > 0
    assert _total(observer) == NORTHWIND_TOTAL + added
    assert RefreshJob.objects.filter(view_name=VIEW).order_by("-pk").first().status == RefreshJob.Status.SUCCEEDED


def test_twenty_readers_are_served_the_previous_rows_without_waiting_while_a_refresh_runs(
    northwind, executive, observer
):
    kpi_view_refresh(view_name=VIEW, mode="full")
    added = _raise_one_line(5)

    blocker = raw_connect()
    _hold_state_row(blocker)
    refresh = RefreshThread()
    refresh.start()
    wait_for(
        lambda: backend_waiting_on_lock(observer, exclude={blocker.info.backend_pid}),
        what="the refresh to reach its state update",
    )

    totals: list[Decimal] = []
    errors: list[BaseException] = []

    def read():
        try:
            with connection.cursor() as cursor:
                # A reader that had to wait for a lock would fail here instead of hanging.
                cursor.execute("SET lock_timeout = '2s'")
                cursor.execute("SET statement_timeout = '5s'")
            rows = kpi_rows_for_user(user=executive, view_name=VIEW, options={"measures": ["revenue"]})
            totals.append(Decimal(str(rows[0]["revenue"])).quantize(Decimal("0.01")))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    readers = [threading.Thread(target=read) for _ in range(20)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=30)

    assert refresh.is_alive(), "the refresh must still be holding its transaction while the readers ran"
    assert errors == []
    assert totals == [NORTHWIND_TOTAL] * 20

    blocker.rollback()
    blocker.close()
    refresh.join(timeout=30)
    assert refresh.error is None
    assert _total(observer) == NORTHWIND_TOTAL + added
