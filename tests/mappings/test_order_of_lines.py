"""The order the lines belong to, read from the grain when no header names it (issue 18, lines14).

A code that repeats, with every date of the file constant within it (an order is placed once) while each line's
quantity or product varies within it, is the number of the order the lines belong to, whatever its header says
('commande_ref', 'Num_CMD'): the rows are order lines, the code keys their orders.
"""

from __future__ import annotations

import pytest

from tests.mappings.helpers import propose_by_column

PRODUCTS = ("P-100", "P-205", "P-310", "P-415", "P-520", "P-625")
PRICES = {"P-100": "12.50", "P-205": "7.90", "P-310": "31.00", "P-415": "4.25", "P-520": "19.99", "P-625": "55.00"}


def _lines(date_of_line=None) -> str:
    # 14 orders of 1 to 4 lines; a header ('Bon') that names no fact, an order date, a customer per order.
    rows = []
    for order in range(14):
        for line in range(1 + order % 4):
            product = PRODUCTS[(order + 2 * line) % len(PRODUCTS)]
            day = date_of_line(order, line) if date_of_line else 1 + order
            rows.append(
                f"BN-{1000 + order},2025-03-{day:02d},Client {order % 5},{product},{1 + (order + line) % 7},"
                f"{PRICES[product]}\n"
            )
    return "Bon,Date,Customer,Product,Quantity,Unit Price\n" + "".join(rows)


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


@pytest.mark.django_db
def test_a_code_no_header_names_with_the_date_constant_within_it_keys_the_orders_of_its_lines(tmp_path):
    path = tmp_path / "bons.csv"
    path.write_text(_lines())
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Bon") == {"canonical_orders.external_id", "canonical_order_lines.order_id"}
    assert _targets(by_col, "Quantity") == {"canonical_order_lines.quantity"}
    assert _targets(by_col, "Unit Price") == {"canonical_order_lines.unit_price"}
    assert _targets(by_col, "Date") == {"canonical_orders.order_date"}


@pytest.mark.django_db
def test_a_code_the_dates_vary_within_keys_no_order(tmp_path):
    path = tmp_path / "bons.csv"
    path.write_text(_lines(lambda order, line: 1 + order + line))
    _, _, by_col = propose_by_column(path)
    assert "canonical_orders.external_id" not in _targets(by_col, "Bon")


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
