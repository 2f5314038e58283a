"""The dev Olist files of the real corpus (tests/data/real, MANIFEST.toml group "olist") and hand-written mappings
of them, for the tests of loading a multi-file dataset."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.mappings.helpers import field

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
ORDERS, LINES = "canonical_orders", "canonical_order_lines"
OLIST = ["olist_orders.csv", "olist_order_items.csv", "olist_products.csv", "olist_sellers.csv"]
PAYMENTS = "olist_payments_derived.csv"  # one payment per order of the items file, written by the test (no such file)
MONTH_FIRST = [{"op": "parse_date", "format": "%m/%d/%Y %H:%M"}]
MAPPINGS = {
    "olist_orders.csv": [
        field("order_id", ORDERS, "external_id"),
        field("customer_id", ORDERS, "customer_id"),
        field("order_status", ORDERS, "status"),
        field("order_purchase_timestamp", ORDERS, "order_date", MONTH_FIRST),
        field("order_delivered_carrier_date", ORDERS, "shipped_date", MONTH_FIRST),
    ],
    "olist_order_items.csv": [
        field("order_id", ORDERS, "external_id"),
        # An order-level column of the items file given as the order's date: it must not win over the orders file.
        field("shipping_limit_date", ORDERS, "order_date", [{"op": "parse_date", "format": "%Y-%m-%d %H:%M:%S"}]),
        field("order_id", LINES, "external_id", [{"op": "concat", "columns": ["order_item_id"], "separator": "-"}]),
        field("order_id", LINES, "order_id"),
        field("product_id", LINES, "product_id"),
        field("seller_id", LINES, "supplier_id"),
        field(None, LINES, "quantity", [{"op": "constant", "value": 1}]),
        field("price", LINES, "amount", [{"op": "parse_number", "locale": "en"}]),
    ],
    "olist_products.csv": [
        field("product_id", "canonical_products", "external_id"),
        field("product_category_name", "canonical_products", "category"),
    ],
    "olist_sellers.csv": [field("seller_id", "canonical_suppliers", "external_id")],
    PAYMENTS: [
        field("order_id", "canonical_payments", "external_id", [{"op": "concat", "columns": ["seq"]}]),
        field("order_id", "canonical_payments", "order_id"),
        field("type", "canonical_payments", "method"),
        field("value", "canonical_payments", "amount", [{"op": "parse_number", "locale": "en"}]),
    ],
}


def read_rows(name: str) -> list[dict]:
    with open(REAL / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
