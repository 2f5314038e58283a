"""A stock snapshot, read as the person who counts the stock reads it.

Rows that each give one product (no product repeats) and several counts of its units, with no price and no
order to belong to, are that product's stock levels at one moment, not the lines of a sale: a sale's lines
carry what a unit sold for, or the order they were sold in, and sell the same product again and again. What
the headers call the counts ("pending customer order quantity") does not make them sales.
"""

from __future__ import annotations

from dataclasses import dataclass

from mappings.proposer.scoring import Target

STOCK_TABLE = "canonical_inventory"
QUANTITIES = (Target("canonical_order_lines", "quantity"), Target(STOCK_TABLE, "quantity_on_hand"))
PRICES = (Target("canonical_order_lines", "unit_price"), Target("canonical_products", "price"))
COUNT = 0.6  # evidence with which an integer column reads as a count of units
PRODUCT = 0.75  # evidence with which a column names the product
ORDER = 0.75  # evidence with which a column refers to an order
MIN_COUNTS = 2  # counts a row needs to be a stock level rather than one sale of a quantity
EACH_ONCE = 0.95  # share of the rows whose product is their own: a product listed once
TIED = 0.03  # header evidence within which two counts say the same
ON_HAND = 0.85  # evidence for the largest count being the units on hand
SNAPSHOT = 0.85  # ... for the file's only date being when the counts were taken


@dataclass
class Stock:
    product: str  # the column naming each row's product, once per product
    counts: list[str]  # the counts of its units
    on_hand: str  # the largest count: the level the others are parts of
    date: str | None  # the file's only date: when the counts were taken

    def reason(self) -> str:
        return (
            f"each row gives one product ('{self.product}', none repeats) and {len(self.counts)} counts of its units, "
            "with no price and no order: the product's stock levels, not the lines of a sale"
        )


def _best(evidence: dict, targets) -> float:
    return max((ev.score for t, ev in evidence.items() if t in targets), default=0.0)


def _product(target: Target) -> bool:
    return target.column == "product_id" or (target.table == "canonical_products" and target.column == "external_id")


def _order(target: Target) -> bool:
    return target.column == "order_id" or (target.table == "canonical_orders" and target.column == "external_id")


def read_stock(scored: dict[str, dict], columns: list[dict], grain: dict) -> Stock | None:
    """The stock-snapshot reading of a file, or None: a product column listing each product once, at least two
    integer counts of units, no column with cents (a price, a line's money), no column referring to an order,
    and at most one date."""
    rows = (grain or {}).get("rows") or 0
    if not rows:
        return None
    by_name = {c["name"]: c for c in columns}
    if any(c.get("type") == "decimal" for c in columns):
        return None
    dates = [c["name"] for c in columns if c.get("type") in ("date", "datetime")]
    if len(dates) > 1:
        return None
    products, counts, orders = [], [], []
    for name, evidence in scored.items():
        column = by_name.get(name) or {}
        kind = column.get("type")
        if kind == "empty":
            continue
        product = max((ev.score for t, ev in evidence.items() if _product(t)), default=0.0)
        if kind in ("identifier", "text") and product >= PRODUCT and (column.get("distinct") or 0) >= EACH_ONCE * rows:
            products.append(name)
        if kind == "integer" and _best(evidence, QUANTITIES) >= COUNT:
            counts.append(name)
        # An integer that reads as an order's number while the header speaks of a quantity is a count, not a key.
        if kind != "integer" and max((ev.score for t, ev in evidence.items() if _order(t)), default=0.0) >= ORDER:
            orders.append(name)
        if kind in ("integer", "decimal") and _best(evidence, PRICES) >= COUNT and name not in counts:
            return None
    if not products or len(counts) < MIN_COUNTS or orders:
        return None
    on_hand = _on_hand(scored, by_name, counts)
    return Stock(product=products[0], counts=counts, on_hand=on_hand, date=dates[0] if dates else None)


def _on_hand(scored: dict, by_name: dict, counts: list[str]) -> str:
    """Of the counts the header reads best as the units on hand, the largest: the level its parts add up to."""
    level = Target(STOCK_TABLE, "quantity_on_hand")
    best = max(scored[n][level].score if level in scored[n] else 0.0 for n in counts)
    tied = [n for n in counts if level in scored[n] and best - scored[n][level].score < TIED]
    return max(tied, key=lambda n: float(by_name[n].get("max") or 0))


def apply_stock(stock: Stock, scored: dict[str, dict], evidence_cls) -> None:
    """The product column is the count's product, the largest count its units on hand, the only date the day
    the counts were taken (in place)."""
    facts = {
        stock.product: (Target(STOCK_TABLE, "product_id"), None, "the product each count is of"),
        stock.on_hand: (
            Target(STOCK_TABLE, "quantity_on_hand"),
            ON_HAND,
            "the largest of the counts: the units on hand, of which the others are parts",
        ),
    }
    if stock.date:
        when = "the file's only date: when the counts were taken"
        facts[stock.date] = (Target(STOCK_TABLE, "snapshot_date"), SNAPSHOT, when)
    for name, (target, score, why) in facts.items():
        current = scored[name].get(target)
        score = max(score or 0.0, current.score if current else 0.0)
        reason = f"{current.reason}; {stock.reason()}: {why}" if current else f"{stock.reason()}: {why}"
        scored[name][target] = evidence_cls(target, score, reason)
