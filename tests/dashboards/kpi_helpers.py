"""Helpers for KPI tests: reading summary tables and adding canonical rows."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from django.db import connection
from psycopg import sql

from canonical.models import Customer, Order, OrderLine, Product
from dashboards.kpi.registry import KPI_VIEWS, KpiView
from dashboards.kpi.rls import kpi_rls_ensure

_ids = itertools.count(1)

_STAND_IN_TYPES = {"text": "text", "money": "numeric(14,2)", "date": "date", "integer": "bigint"}


def stand_in_kpi_create(monkeypatch, view: KpiView, rows: list[tuple]) -> KpiView:
    """Register `view` for this test only and create its summary table holding `rows`, behind the RLS wall.

    The caller drops the table (`stand_in_kpi_drop`) when it outlives the test's transaction.
    """
    monkeypatch.setitem(KPI_VIEWS, view.name, view)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_STAND_IN_TYPES[kind]))
        for name, kind in view.columns.items()
    )
    placeholders = sql.SQL(", ").join(sql.Placeholder() * len(view.columns))
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(view.name), columns))
        cursor.executemany(sql.SQL("INSERT INTO {} VALUES ({})").format(sql.Identifier(view.name), placeholders), rows)
    kpi_rls_ensure([view.name])
    return view


def stand_in_kpi_drop(view: KpiView) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(view.name)))


def table_rows(name: str) -> list[tuple]:
    """Every row of a KPI table, sorted, for comparing states."""
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(name)))
        return sorted(cursor.fetchall(), key=repr)


def all_tables() -> dict[str, list[tuple]]:
    return {name: table_rows(name) for name in KPI_VIEWS}


def scalar(query, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0]


def add_order(
    *,
    customer: Customer,
    rep,
    day: date,
    lines: list[tuple[Product, str, str, str]] = (),
    amount: str | None = None,
    status: str = "open",
) -> Order:
    """An order with lines (product, quantity, unit_price, discount), or only an amount."""
    n = next(_ids)
    order = Order.objects.create(
        external_id=f"T-{n}",
        customer=customer,
        sales_rep=rep,
        order_date=day,
        status=status,
        amount=Decimal(amount) if amount is not None else None,
    )
    for i, (product, quantity, price, discount) in enumerate(lines):
        OrderLine.objects.create(
            external_id=f"T-{n}-{i}",
            order=order,
            product=product,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            discount=Decimal(discount),
        )
    return order


def month_of(day: date) -> str:
    return day.replace(day=1).isoformat()
