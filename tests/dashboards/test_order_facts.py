"""The order facts: one stored row per order that the revenue views read, kept current by their refreshes."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from psycopg import sql

from canonical.models import Customer, Order, OrderLine, Product
from dashboards.kpi.registry import KPI_VIEWS, ORDER_FACTS, bases_of, public_views
from dashboards.models import KpiPendingRefresh
from dashboards.services.refresh import kpi_refresh_mark_touched, kpi_view_refresh, kpi_views_refresh_all, order_facts
from dashboards.tasks import kpi_view_refresh_task
from mappings.models import DataSource
from mappings.services.ingest import ingest_file
from tests.dashboards.kpi_helpers import add_order, all_tables, scalar
from tests.factories import northwind_employees

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(nw_employees):
    alfki = Customer.objects.create(external_id="ALFKI", name="Alfreds", country="Germany")
    chai = Product.objects.create(external_id="1", name="Chai", category="Beverages", cost=Decimal("10"))
    add_order(customer=alfki, rep=nw_employees["1"], day=date(2024, 1, 10), lines=[(chai, "2", "18.00", "0")])
    kpi_views_refresh_all(full=True)
    return {"alfki": alfki, "chai": chai, "rep": nw_employees["1"]}


def one_row(query: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(query)
        (row,) = cursor.fetchall()
    return row


def revenue(month: str) -> Decimal | None:
    return scalar("SELECT sum(revenue) FROM monthly_revenue WHERE month = %s", [month])


def test_order_facts_hold_each_orders_revenue_lines_and_cost_of_goods(shop):
    assert one_row("SELECT revenue, line_count, cogs FROM kpi_order_facts") == (36, 1, 20)


def test_a_views_refresh_of_some_months_brings_the_order_facts_up_to_date_for_them(shop):
    add_order(customer=shop["alfki"], rep=shop["rep"], day=date(2024, 3, 5), lines=[(shop["chai"], "1", "18", "0")])

    kpi_view_refresh(view_name="monthly_revenue", months=["2024-03-01"])

    assert scalar("SELECT count(*) FROM kpi_order_facts") == 2
    assert revenue("2024-03-01") == Decimal("18.00")


def test_touched_months_wait_for_the_order_facts_until_a_view_that_reads_them_refreshes(shop):
    add_order(customer=shop["alfki"], rep=shop["rep"], day=date(2024, 4, 1), amount="50.00")

    names = kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["2024-04-01"]}})

    assert ORDER_FACTS not in names  # no task of its own: the views that read it refresh it
    assert KpiPendingRefresh.objects.filter(view_name=ORDER_FACTS, months=["2024-04-01"]).exists()
    kpi_view_refresh(view_name="order_fulfillment")  # does not read the facts: they stay pending
    assert KpiPendingRefresh.objects.filter(view_name=ORDER_FACTS).exists()
    kpi_view_refresh(view_name="gross_margin")
    assert not KpiPendingRefresh.objects.filter(view_name=ORDER_FACTS).exists()
    kpi_view_refresh(view_name="monthly_revenue")
    assert revenue("2024-04-01") == Decimal("50.00")


def facts_row_location(order: Order) -> str:
    """Where the order's facts row is stored: a row deleted and inserted again moves (a new tuple)."""
    return scalar("SELECT ctid::text FROM kpi_order_facts WHERE order_id = %s", [order.pk])


def written_by(source: DataSource, *orders: Order) -> None:
    """Stamp orders and their lines with `source`, as an execution stamps the rows it writes."""
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(source=source)
    OrderLine.objects.filter(order__in=orders).update(source=source)


def a_source(name: str = "orders.csv") -> DataSource:
    return DataSource.objects.create(name=name, file_path=name, sha256=name.ljust(64, "0"))


def _mapping(name: str) -> dict:
    return json.loads((Path(settings.BASE_DIR) / "demo" / "mappings" / name).read_text())


def test_an_executions_orders_are_recomputed_one_by_one_not_their_whole_month(shop):
    january = Order.objects.get()
    untouched = facts_row_location(january)
    source = a_source()
    new = add_order(
        customer=shop["alfki"], rep=shop["rep"], day=date(2024, 1, 20), lines=[(shop["chai"], "1", "18", "0")]
    )
    written_by(source, new)

    kpi_refresh_mark_touched(
        touched={t: {"months": ["2024-01-01"]} for t in ("canonical_orders", "canonical_order_lines")},
        source_id=source.pk,
    )
    kpi_view_refresh(view_name="monthly_revenue")

    assert one_row(f"SELECT revenue, line_count FROM kpi_order_facts WHERE order_id = {new.pk}") == (18, 1)
    assert facts_row_location(january) == untouched  # the month's other order was not recomputed
    assert revenue("2024-01-01") == Decimal("54.00")


def test_an_order_moved_to_another_month_by_an_execution_leaves_its_old_month(shop):
    order = Order.objects.get()
    order.order_date = date(2024, 2, 3)
    order.save()
    written_by(source := a_source(), order)

    touched = {"canonical_orders": {"months": ["2024-01-01", "2024-02-01"]}}  # its old and its new month
    kpi_refresh_mark_touched(touched=touched, source_id=source.pk)
    kpi_view_refresh(view_name="monthly_revenue")

    assert one_row(f"SELECT month FROM kpi_order_facts WHERE order_id = {order.pk}") == (date(2024, 2, 1),)
    assert revenue("2024-01-01") is None
    assert revenue("2024-02-01") == Decimal("36.00")


def test_a_source_that_wrote_more_orders_than_its_touched_months_hold_recomputes_those_months_whole(shop):
    january = Order.objects.get()
    source = a_source("big-first-load.csv")
    earlier = [
        add_order(customer=shop["alfki"], rep=shop["rep"], day=date(2023, m, 2), amount="5.00") for m in (3, 4, 5)
    ]
    kpi_views_refresh_all(full=True)
    before = facts_row_location(january)
    new = add_order(customer=shop["alfki"], rep=shop["rep"], day=date(2024, 1, 5), amount="7.00")
    written_by(source, *earlier, new)  # 4 orders of this source; January holds 2

    kpi_refresh_mark_touched(touched={"canonical_orders": {"months": ["2024-01-01"]}}, source_id=source.pk)
    kpi_view_refresh(view_name="monthly_revenue")

    assert facts_row_location(january) != before  # January was recomputed whole
    assert revenue("2024-01-01") == Decimal("43.00")


@pytest.fixture
def uploads(tmp_path, settings, monkeypatch, django_capture_on_commit_callbacks):
    """Load Northwind-shaped files through the real execution; its commit marks what it touched (no worker)."""
    settings.UPLOAD_DIR = tmp_path / "uploads"
    monkeypatch.setattr(kpi_view_refresh_task, "delay", lambda **kwargs: None)  # refreshed by the test itself

    def upload(name: str, text: str, mapping: str) -> None:
        path = tmp_path / name
        path.write_text(text)
        spec = _mapping(mapping)
        with django_capture_on_commit_callbacks(execute=True):  # the execution's signal, then the receiver's
            _, job = ingest_file(path=path, user=None, fields=spec["mappings"], options=spec.get("options"))
        assert job.status == "succeeded", job.error

    return upload


ORDERS_HEADER = "orderID,customerID,employeeID,orderDate,shippedDate\n"


def test_uploading_an_orders_file_updates_the_order_facts_of_its_orders_only(shop, uploads):
    """Through the real execution: the rows it writes carry its source, and its commit marks the months touched."""
    january = Order.objects.get()
    for day in (2, 3, 4):  # January holds more orders than the file brings: recomputing them one by one pays
        add_order(customer=shop["alfki"], rep=shop["rep"], day=date(2024, 1, day), amount="1.00")
    kpi_views_refresh_all(full=True)
    untouched = facts_row_location(january)
    uploads(
        "orders.csv",
        ORDERS_HEADER + "30001,ALFKI,1,2024-01-15 00:00:00.000,NULL\n"
        "30002,ALFKI,1,2024-01-16 00:00:00.000,2024-01-20 00:00:00.000\n",
        "05-orders.json",
    )
    uploads(
        "order-details.csv",
        "orderID,productID,unitPrice,quantity,discount\n30001,1,18.00,2,0\n30002,1,18.00,1,0.5\n",
        "06-order-details.json",
    )
    assert KpiPendingRefresh.objects.filter(view_name=ORDER_FACTS).exclude(source=None).count() == 2
    kpi_view_refresh(view_name="gross_margin")

    assert facts_row_location(january) == untouched
    assert one_row("SELECT sum(revenue), sum(cogs) FROM kpi_order_facts WHERE month = '2024-01-01'") == (84, 50)
    # The three orders of 1.00 have no lines, so no known cost of goods: January's is unknown.
    assert one_row("SELECT revenue, cogs FROM gross_margin WHERE month = '2024-01-01'") == (84, None)


def test_an_upload_that_moves_its_orders_to_another_month_and_rep_leaves_the_views_as_a_full_refresh_would(
    shop, uploads, nw_employees
):
    for day in range(1, 6):  # months that hold more orders than each upload brings
        for month in (3, 4):
            add_order(customer=shop["alfki"], rep=shop["rep"], day=date(2024, month, day), amount="2.00")
    uploads("orders.csv", ORDERS_HEADER + "30001,ALFKI,1,2024-03-15 00:00:00.000,NULL\n", "05-orders.json")
    uploads(
        "details.csv", "orderID,productID,unitPrice,quantity,discount\n30001,1,18.00,2,0\n", "06-order-details.json"
    )
    kpi_views_refresh_all()

    uploads("orders-fixed.csv", ORDERS_HEADER + "30001,ALFKI,5,2024-04-02 00:00:00.000,NULL\n", "05-orders.json")
    uploads(
        "details-fixed.csv",
        "orderID,productID,unitPrice,quantity,discount\n30001,1,18.00,3,0\n",
        "06-order-details.json",
    )
    moved = Order.objects.get(external_id="30001")
    assert moved.source.name == "orders-fixed.csv"  # an updated row carries the execution that updated it
    incremental = kpi_views_refresh_all()
    after = all_tables()
    kpi_views_refresh_all(full=True)

    assert {r.mode for r in incremental.values() if r.view_name in ("monthly_revenue", "top_customers")} == {
        "incremental"
    }
    assert after == all_tables()
    assert one_row(f"SELECT month, sales_rep_id, revenue FROM kpi_order_facts WHERE order_id = {moved.pk}") == (
        date(2024, 4, 1),
        nw_employees["5"].pk,
        54,
    )


def test_a_full_refresh_of_one_view_recomputes_the_order_facts_from_the_order_lines(shop):
    OrderLine.objects.update(quantity=Decimal("3"))  # changed behind the engine's back: nothing pending

    kpi_view_refresh(view_name="gross_margin", mode="full")

    assert one_row("SELECT revenue, cogs FROM gross_margin") == (54, 30)


def test_a_full_refresh_of_everything_builds_the_order_facts_once(shop, monkeypatch):
    rebuilds = []
    real = order_facts._replace_internal

    def counting(view):
        rebuilds.append(view.name)
        return real(view)

    monkeypatch.setattr(order_facts, "_replace_internal", counting)
    kpi_views_refresh_all(full=True)

    readers = [v.name for v in public_views() if bases_of(v)]
    assert len(readers) >= 5  # monthly revenue, gross margin, rep performance, top customers, ...
    assert rebuilds.count(ORDER_FACTS) == 1


@pytest.fixture
def kpi_tables_emptied_afterwards():
    """A test outside a transaction leaves KPI rows behind (not Django models: not flushed): empty them."""
    yield
    with connection.cursor() as cursor:
        for view in KPI_VIEWS.values():
            cursor.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(view.name)))


@pytest.mark.django_db(transaction=True)
def test_a_full_refresh_vacuums_the_view_so_reads_do_not_walk_its_previous_rows(kpi_tables_emptied_afterwards):
    employees = northwind_employees()
    customer = Customer.objects.create(external_id="ALFKI", name="Alfreds")
    add_order(customer=customer, rep=employees["1"], day=date(2024, 1, 10), amount="10.00")

    kpi_view_refresh(view_name="monthly_revenue", mode="full")

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'monthly_revenue'")
        assert cursor.fetchone()[0] is True


def test_gross_margin_is_unknown_for_a_month_whose_lines_include_a_product_without_cost(shop):
    uncosted = Product.objects.create(external_id="2", name="Chang", category="Beverages", cost=None)
    add_order(customer=shop["alfki"], rep=shop["rep"], day=date(2024, 2, 1), lines=[(shop["chai"], "1", "18", "0")])
    add_order(customer=shop["alfki"], rep=shop["rep"], day=date(2024, 2, 2), lines=[(uncosted, "1", "19", "0")])

    kpi_view_refresh(view_name="gross_margin", mode="full")

    january = one_row("SELECT revenue, cogs, gross_margin, margin_pct FROM gross_margin WHERE month = '2024-01-01'")
    february = one_row("SELECT revenue, cogs, gross_margin, margin_pct FROM gross_margin WHERE month = '2024-02-01'")
    assert january == (36, 20, 16, Decimal("44.44"))
    assert february == (37, None, None, None)  # not 18 - 10 over 37: the cost of Chang is not known


def test_an_order_without_lines_has_no_known_cost_of_goods(shop):
    add_order(customer=shop["alfki"], rep=shop["rep"], day=date(2024, 1, 20), amount="100.00")

    kpi_view_refresh(view_name="gross_margin", mode="full")

    assert one_row("SELECT revenue, cogs, gross_margin FROM gross_margin") == (136, None, None)
