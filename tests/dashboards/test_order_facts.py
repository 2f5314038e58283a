"""The order facts: one stored row per order that the revenue views read, kept current by their refreshes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from psycopg import sql

from canonical.models import Customer, OrderLine, Product
from dashboards.kpi.registry import KPI_VIEWS, ORDER_FACTS, bases_of, public_views
from dashboards.models import KpiPendingRefresh
from dashboards.services import refresh
from dashboards.services.refresh import kpi_refresh_mark_touched, kpi_view_refresh, kpi_views_refresh_all
from tests.dashboards.kpi_helpers import add_order, scalar
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


def test_a_full_refresh_of_one_view_recomputes_the_order_facts_from_the_order_lines(shop):
    OrderLine.objects.update(quantity=Decimal("3"))  # changed behind the engine's back: nothing pending

    kpi_view_refresh(view_name="gross_margin", mode="full")

    assert one_row("SELECT revenue, cogs FROM gross_margin") == (54, 30)


def test_a_full_refresh_of_everything_builds_the_order_facts_once(shop, monkeypatch):
    rebuilds = []
    real = refresh._replace_internal

    def counting(view):
        rebuilds.append(view.name)
        return real(view)

    monkeypatch.setattr(refresh, "_replace_internal", counting)
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
