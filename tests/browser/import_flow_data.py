"""A small orders export with two bad rows, uploaded and mapped as v1: what the import-flow browser tests use."""

from __future__ import annotations

from pathlib import Path

from mappings.models import DataSource
from mappings.services.mapping import mapping_save
from mappings.services.sources import data_source_upload

ROWS = 60


def sales_csv(path: Path) -> Path:
    lines = ["Order,Date,Customer,Qty,Price,Status"]
    for i in range(1, ROWS + 1):
        day = f"{(i % 28) + 1:02d}.{(i % 12) + 1:02d}.2024"
        price = f"{10 + i}.50"
        if i == 7:
            day = "31.02.2024"  # no such day: rejected
        if i == 12:
            price = "n/a"  # not a number: rejected
        lines.append(f"SO-{i},{day},C{i % 5 + 1},{i % 4 + 1},{price},{'S' if i % 3 else 'O'}")
    path.write_text("\n".join(lines) + "\n")
    return path


V1_FIELDS = [
    {"source_col": "Order", "canonical_table": "canonical_orders", "canonical_col": "external_id"},
    {
        "source_col": "Date",
        "canonical_table": "canonical_orders",
        "canonical_col": "order_date",
        "transform": [{"op": "parse_date", "format": "%d.%m.%Y"}],
    },
    {"source_col": "Customer", "canonical_table": "canonical_orders", "canonical_col": "customer_id"},
    {"source_col": "Price", "canonical_table": "canonical_orders", "canonical_col": "amount"},
]


def sales_upload(tmp_path: Path, user) -> DataSource:
    """The export uploaded (profiled) by `user`, with mapping v1 saved."""
    path = sales_csv(tmp_path / "sales.csv")
    with path.open("rb") as fh:
        source = data_source_upload(file=fh, name="sales.csv", user=user).source
    mapping_save(source=source, fields=V1_FIELDS, user=user)
    return source
