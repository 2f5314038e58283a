"""Required canonical columns the engine fills itself when no column of the file feeds them."""

from __future__ import annotations

COMPUTABLE = {
    ("canonical_orders", "amount"): "computed from the order's lines",
    ("canonical_order_lines", "amount"): "unit_price * quantity * (1 - discount)",
}


def computable(table: str, column: str) -> bool:
    return (table, column) in COMPUTABLE
