"""Property: after any sequence of inserts, updates and late (back-dated) rows, refreshing incrementally the
months an execution reports as touched gives exactly what a full recompute of the same SQL gives.

Every KPI table is compared, read-side aggregates included: the team aggregates too (the world's reps are a
manager with one of his reps and two reps of the CEO, so a change reaches two teams, and an update can move an
order from one team to another).

A change is made either as an execution makes it (its rows stamped with their data source, and the source given
with the touched months: the order facts are then recomputed order by order, for the orders that source wrote,
including orders it wrote in earlier changes) or without a source (the facts recomputed by month)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canonical.models import Customer, Order, OrderLine, Product
from dashboards.filters import DashboardFilters
from dashboards.kpi.registry import public_views
from dashboards.selectors import kpi_rows_for_user
from dashboards.services.refresh import kpi_refresh_mark_touched, kpi_view_refresh, kpi_views_refresh_all
from mappings.models import DataSource
from tests.dashboards.kpi_helpers import add_order, all_tables
from tests.factories import Role, persona

pytestmark = pytest.mark.django_db

MONTHS = [date(2024, m, 1) for m in range(1, 7)]
INCREMENTAL = [v.name for v in public_views() if v.strategy == "incremental"]

days = st.builds(lambda m, d: m.replace(day=d), st.sampled_from(MONTHS), st.integers(1, 28))
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)
line = st.tuples(st.integers(0, 2), st.integers(1, 20), money, st.sampled_from(["0", "0.05", "0.25"]))
insert = st.tuples(st.just("insert"), days, st.integers(0, 3), st.integers(0, 3), st.lists(line, max_size=3), money)
update = st.tuples(st.just("update"), st.integers(0, 50), days, st.integers(0, 3), st.integers(0, 3), money)
update_line = st.tuples(st.just("update_line"), st.integers(0, 50), st.integers(1, 30))
add_line = st.tuples(st.just("add_line"), st.integers(0, 50), line)
late = st.tuples(st.just("late"), st.integers(1, 28), st.integers(0, 3), st.lists(line, max_size=2))
# Lines whose order is not loaded yet: a placeholder order with no date (an update dates it later, as an orders file).
undated = st.tuples(st.just("undated"), st.lists(line, min_size=1, max_size=2))
operations = st.lists(st.one_of(insert, insert, update, update_line, add_line, late, undated), min_size=1, max_size=5)
# Per change: written by no source, or by one of two sources (a source writing again, as a re-run would).
stamps = st.lists(st.sampled_from([None, 0, 1]), min_size=5, max_size=5)


class Rollback(Exception):
    pass


def month(day: date) -> str:
    return day.replace(day=1).isoformat()


def months_of(*days: date | None) -> list[str]:
    """The months an execution reports for these dates: an undated order is in none."""
    return [month(day) for day in days if day is not None]


def apply(op, world) -> dict:
    """Apply one change through the ORM; return the execution-style `touched` report for it.

    The ids of the orders and order lines it wrote are left in world["written"] (to be stamped with a source)."""
    customers, reps, products = world["customers"], world["reps"], world["products"]
    written = world["written"] = {"orders": [], "lines": []}
    kind = op[0]
    if kind == "undated":
        order = Order.objects.create(external_id=f"U-{Order.objects.count()}", is_placeholder=True)
        for p, q, price, disc in op[1]:
            OrderLine.objects.create(
                external_id=f"U-{order.pk}-{OrderLine.objects.count()}",
                order=order,
                product=products[p],
                quantity=Decimal(q),
                unit_price=price,
                discount=Decimal(disc),
            )
        written["lines"].extend(order.lines.values_list("pk", flat=True))
        return {"canonical_order_lines": {"months": []}}
    if kind in ("insert", "late"):
        if kind == "insert":
            _, day, c, r, lines, amount = op
        else:  # a row arriving now for a month long refreshed
            _, d, c, lines = op
            day, r, amount = date(2023, 11, d), 0, Decimal("10.00")
        order = add_order(
            customer=customers[c],
            rep=reps[r],
            day=day,
            lines=[(products[p], str(q), str(price), disc) for p, q, price, disc in lines],
            amount=None if lines else str(amount),
        )
        months = [month(order.order_date)]
        written["orders"].append(order.pk)
        written["lines"].extend(order.lines.values_list("pk", flat=True))
        return {"canonical_orders": {"months": months}, "canonical_order_lines": {"months": months}}
    orders = list(Order.objects.order_by("pk"))
    if not orders:
        return {}
    if kind == "update":
        _, i, day, c, r, amount = op
        order = orders[i % len(orders)]
        months = months_of(order.order_date, day)  # the old and the new month, as executions report
        order.order_date, order.customer, order.sales_rep, order.amount = day, customers[c], reps[r], amount
        order.is_placeholder = False  # an undated order is dated by its orders file
        order.save()
        written["orders"].append(order.pk)
        return {"canonical_orders": {"months": months}}
    order_lines = list(OrderLine.objects.select_related("order").order_by("pk"))
    if kind == "update_line":
        if not order_lines:
            return {}
        _, i, quantity = op
        target = order_lines[i % len(order_lines)]
        target.quantity = Decimal(quantity)
        target.save()
        written["lines"].append(target.pk)
        return {"canonical_order_lines": {"months": months_of(target.order.order_date)}}
    _, i, (p, q, price, disc) = op
    order = orders[i % len(orders)]
    added = OrderLine.objects.create(
        external_id=f"extra-{order.pk}-{OrderLine.objects.count()}",
        order=order,
        product=products[p],
        quantity=Decimal(q),
        unit_price=price,
        discount=Decimal(disc),
    )
    written["lines"].append(added.pk)
    return {"canonical_order_lines": {"months": months_of(order.order_date)}}


def stamp(world, source: DataSource | None) -> int | None:
    """Stamp the rows the last change wrote with `source`, as an execution stamps the rows it writes."""
    if source is None:
        return None
    Order.objects.filter(pk__in=world["written"]["orders"]).update(source=source)
    OrderLine.objects.filter(pk__in=world["written"]["lines"]).update(source=source)
    return source.pk


@pytest.fixture
def world(nw_employees):
    return {
        "customers": [Customer.objects.create(external_id=f"C{i}", name=f"Customer {i}") for i in range(4)],
        "reps": [nw_employees[e] for e in ("1", "5", "6", "3")],
        "products": [
            Product.objects.create(external_id=f"P{i}", name=f"P{i}", category=cat, cost=Decimal("3.50"))
            for i, cat in enumerate(["Beverages", "Seafood", ""])
        ],
        "sources": [
            DataSource.objects.create(name=f"orders-{i}.csv", file_path=f"orders-{i}.csv", sha256=f"{i}" * 64)
            for i in range(2)
        ],
    }


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, stamps=stamps)
def test_incremental_refresh_equals_a_full_recompute_after_any_changes(world, ops, stamps):
    try:
        with transaction.atomic():  # each example starts from the same empty world
            kpi_views_refresh_all(full=True)
            for op, which in zip(ops, stamps, strict=False):
                touched = apply(op, world)
                source_id = stamp(world, None if which is None else world["sources"][which])
                kpi_refresh_mark_touched(touched=touched, source_id=source_id)
                for name in INCREMENTAL:
                    kpi_view_refresh(view_name=name)
                incremental = all_tables()
                with transaction.atomic():
                    kpi_views_refresh_all(full=True, view_names=INCREMENTAL)
                    full = all_tables()
                    transaction.set_rollback(True)
                for name in full:
                    assert incremental[name] == full[name], f"{name} differs after {op}"
            raise Rollback
    except Rollback:
        pass


ranges = st.lists(
    st.tuples(st.sampled_from([None, date(2023, 11, 1), *MONTHS]), st.sampled_from([None, *MONTHS])),
    min_size=3,
    max_size=3,
)


def distinct_customers_of_orders(date_from, date_to) -> dict[int, int]:
    """Per rep: count(distinct customer_id) of the orders whose month is in the range, from the orders themselves.
    An order with no date yet is in no month (docs/KPI.md, "Undated revenue"), so in no range."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sales_rep_id, count(DISTINCT customer_id) FROM canonical_orders "
            "WHERE order_date IS NOT NULL "
            "AND (%(lo)s::date IS NULL OR date_trunc('month', order_date)::date >= %(lo)s) "
            "AND (%(hi)s::date IS NULL OR date_trunc('month', order_date)::date <= %(hi)s) GROUP BY 1",
            {"lo": date_from, "hi": date_to},
        )
        return dict(cursor.fetchall())


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, stamps=stamps, chosen=ranges)
def test_distinct_customer_counts_after_incremental_refreshes_equal_the_orders_for_any_range(
    world, ops, stamps, chosen
):
    executive = persona("fuller-property", Role.EXECUTIVE, None)
    options = {"group_by": ["sales_rep_id"], "measures": ["customer_count"]}
    try:
        with transaction.atomic():
            kpi_views_refresh_all(full=True)
            for op, which in zip(ops, stamps, strict=False):
                touched = apply(op, world)
                source_id = stamp(world, None if which is None else world["sources"][which])
                kpi_refresh_mark_touched(touched=touched, source_id=source_id)
                kpi_view_refresh(view_name="sales_rep_performance")
            for date_from, date_to in chosen:
                filters = DashboardFilters(date_from=date_from, date_to=date_to)
                rows = kpi_rows_for_user(
                    user=executive, view_name="sales_rep_performance", options=options, filters=filters
                )
                read = {r["sales_rep_id"]: r["customer_count"] for r in rows}
                assert read == distinct_customers_of_orders(date_from, date_to), (date_from, date_to)
            raise Rollback
    except Rollback:
        pass
