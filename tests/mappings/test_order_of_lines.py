"""Dated rows of a count beside a price, with no total, are sales lines (issue 18, lines14).

(lines14's other rule, a repeating code with the file's dates constant within it read as the order number, was
reverted: the held-out check found it took a bank statement to the wrong table.)
"""

from __future__ import annotations

import pytest

from tests.mappings.helpers import propose_by_column


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


def _sales() -> str:
    # Each row one sale of a product: its date, a count and the product's price; products repeat, no order number.
    names = ("Laptop Pro", "Tablet 10", "Phone X", "Desk Lamp", "Office Chair", "Monitor 27")
    prices = (1200, 430, 650, 45, 220, 310)
    rows = []
    for i in range(36):
        p = (i * 5) % len(names)
        qty = 1 + (i * 7) % 9
        rows.append(f"2024-{1 + i % 12:02d}-{1 + i % 27:02d},Electronics,{names[p]},{qty},{prices[p]}\n")
    return "fecha,categoria,producto,cantidad,precio_unitario\n" + "".join(rows)


@pytest.mark.django_db
def test_dated_rows_of_a_count_beside_a_price_are_sales_lines_not_a_catalogue(tmp_path):
    path = tmp_path / "ventas.csv"
    path.write_text(_sales())
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "precio_unitario") == {"canonical_order_lines.unit_price"}
    assert _targets(by_col, "cantidad") == {"canonical_order_lines.quantity"}
    assert _targets(by_col, "fecha") == {"canonical_orders.order_date"}
