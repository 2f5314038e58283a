"""Northwind's orders, lines, customers and products as canonical rows, straight through the ORM.

The KPI tests need real figures without depending on the execution engine (built in parallel); the
demo acceptance through `seed_demo` is tested separately once it loads the data.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from canonical.models import Customer, Employee, Order, OrderLine, Product


def _rows(name: str) -> list[dict]:
    with (Path(settings.DEMO_DATA_DIR) / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _date(value: str) -> date | None:
    return None if value in ("", "NULL") else date.fromisoformat(value[:10])


def load_northwind_sales(employees: dict[str, Employee]) -> None:
    """Customers, categories → products, orders and order lines of the demo copy (employees given)."""
    categories = {r["categoryID"]: r["categoryName"] for r in _rows("categories.csv")}
    customers = Customer.objects.bulk_create(
        [
            Customer(external_id=r["customerID"], name=r["companyName"], country=r["country"], city=r["city"])
            for r in _rows("customers.csv")
        ]
    )
    customer_ids = {c.external_id: c.pk for c in customers}
    products = Product.objects.bulk_create(
        [
            Product(
                external_id=r["productID"],
                name=r["productName"],
                category=categories.get(r["categoryID"], ""),
                price=Decimal(r["unitPrice"]),
                cost=(Decimal(r["unitPrice"]) * Decimal("0.6")).quantize(Decimal("0.01")),
            )
            for r in _rows("products.csv")
        ]
    )
    product_ids = {p.external_id: p.pk for p in products}
    orders = Order.objects.bulk_create(
        [
            Order(
                external_id=r["orderID"],
                customer_id=customer_ids[r["customerID"]],
                sales_rep_id=employees[r["employeeID"]].pk,
                order_date=_date(r["orderDate"]),
                shipped_date=_date(r["shippedDate"]),
                status="shipped" if _date(r["shippedDate"]) else "open",
            )
            for r in _rows("orders.csv")
        ]
    )
    order_ids = {o.external_id: o.pk for o in orders}
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                external_id=f"{r['orderID']}-{r['productID']}",
                order_id=order_ids[r["orderID"]],
                product_id=product_ids[r["productID"]],
                unit_price=Decimal(r["unitPrice"]),
                quantity=Decimal(r["quantity"]),
                discount=Decimal(r["discount"]),
            )
            for r in _rows("order-details.csv")
        ]
    )
