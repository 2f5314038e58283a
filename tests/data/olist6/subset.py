"""Take the olist6 subset from the six Olist files of a referentially consistent sample (MANIFEST.toml says which).

    python tests/data/olist6/subset.py SAMPLE_DIR tests/data/olist6

The orders whose order_id starts with 0, 1, 2 or 3 are kept, then what they need: their items and payments (by
order_id), their customers (by customer_id), the products and sellers of their items. Lines are copied as they are
in the source files (same bytes, same order); only the csv module reads them.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

FILES = {
    "orders": "olist_orders_dataset.csv",
    "customers": "olist_customers_dataset.csv",
    "items": "olist_order_items_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
    "products": "olist_products_dataset.csv",
    "sellers": "olist_sellers_dataset.csv",
}
FIRST_CHARACTERS = "0123"


def _read(path: Path) -> tuple[str, list[tuple[str, dict]]]:
    """The header line and (line, row) of every data line; a file whose values hold line breaks is refused."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    rows = []
    for line in lines[1:]:
        values = next(csv.reader([line]))
        if len(values) != len(header):
            raise SystemExit(f"{path.name}: a line that is not one row: {line!r}")
        rows.append((line, dict(zip(header, values, strict=True))))
    return lines[0], rows


def subset(source: Path, target: Path) -> dict[str, int]:
    data = {name: _read(source / file) for name, file in FILES.items()}
    orders = {r["order_id"] for _, r in data["orders"][1] if r["order_id"][0] in FIRST_CHARACTERS}
    customers = {r["customer_id"] for _, r in data["orders"][1] if r["order_id"] in orders}
    items = [r for _, r in data["items"][1] if r["order_id"] in orders]
    keep = {
        "orders": lambda r: r["order_id"] in orders,
        "customers": lambda r: r["customer_id"] in customers,
        "items": lambda r: r["order_id"] in orders,
        "payments": lambda r: r["order_id"] in orders,
        "products": lambda r: r["product_id"] in {i["product_id"] for i in items},
        "sellers": lambda r: r["seller_id"] in {i["seller_id"] for i in items},
    }
    counts = {}
    for name, (header, rows) in data.items():
        kept = [line for line, row in rows if keep[name](row)]
        (target / FILES[name]).write_text(header + "".join(kept), encoding="utf-8")
        counts[FILES[name]] = len(kept)
    return counts


if __name__ == "__main__":
    for name, rows in subset(Path(sys.argv[1]), Path(sys.argv[2])).items():
        print(f"{name}: {rows} rows")
