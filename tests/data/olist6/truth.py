"""The ground truth of the olist6 files, computed with the csv module only (never the product).

    python tests/data/olist6/truth.py > tests/data/olist6/truth.json

Revenue is the product's revenue rule (canonical/schema.py, kpi_line_revenue): the sum of the order lines' amounts.
An Olist item row is one unit sold at `price`; its `freight_value` is shipping, which the product keeps apart from
revenue (an order's shipping_amount), so revenue = the sum of item prices, in the year of the order's
order_purchase_timestamp. Payments are what customers paid (items + freight, less vouchers' effect): they are
totalled per order, not compared with revenue.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rows(name: str) -> list[dict]:
    with open(HERE / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def truth() -> dict:
    orders = rows("olist_orders_dataset.csv")
    items = rows("olist_order_items_dataset.csv")
    payments = rows("olist_order_payments_dataset.csv")
    products = rows("olist_products_dataset.csv")
    year = {o["order_id"]: o["order_purchase_timestamp"][:4] for o in orders}
    category = {p["product_id"]: p["product_category_name"] for p in products}
    revenue_per_year: dict[str, Decimal] = defaultdict(Decimal)
    revenue_per_category: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        revenue_per_year[year[item["order_id"]]] += Decimal(item["price"])
        revenue_per_category[category[item["product_id"]]] += Decimal(item["price"])
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in payments:
        paid[payment["order_id"]] += Decimal(payment["payment_value"])
    return {
        "rows": {
            "customers": len(rows("olist_customers_dataset.csv")),
            "orders": len(orders),
            "order_items": len(items),
            "payments": len(payments),
            "products": len(products),
            "sellers": len(rows("olist_sellers_dataset.csv")),
        },
        "orders_with_items": len({i["order_id"] for i in items}),
        "orders_per_status": dict(sorted(Counter(o["order_status"] for o in orders).items())),
        "revenue_per_year": {y: str(v) for y, v in sorted(revenue_per_year.items())},
        "revenue_total": str(sum(revenue_per_year.values())),
        "revenue_per_category": {c: str(v) for c, v in sorted(revenue_per_category.items())},
        "freight_total": str(sum(Decimal(i["freight_value"]) for i in items)),
        "payments_total": str(sum(paid.values())),
        "payments_per_order": {o: str(v) for o, v in sorted(paid.items())},
    }


if __name__ == "__main__":
    print(json.dumps(truth(), indent=1))
