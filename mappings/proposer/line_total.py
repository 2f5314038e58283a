"""A sale's line read from its arithmetic, as an analyst checks a sales export before trusting its headers.

The profile finds which number columns the others make row by row (`grain.arithmetic`, profiling/evidence.py).
A column that is a quantity × a price on every row is the line's total, whatever its header ("Total Revenue",
"Gross Sales"); the price it uses is the line's unit price, and a second price the same quantity makes another
total with is a cost ("Unit Cost" × "Units Sold" = "Total Cost"), not the sale. When the total also splits into
two columns (revenue = cost + profit; gross = discount + net), the parts are not the line's amount, except the
net beside a discount: that is what the line was charged. A column of rates between 0 and 1 that a header calls
a discount is the share taken off the price (`kpi_line_revenue`: quantity × price × (1 − discount)).
"""

from __future__ import annotations

from dataclasses import dataclass

from mappings.proposer.scoring import Target

LINES = "canonical_order_lines"
ORDERS = "canonical_orders"
AMOUNT, PRICE, QUANTITY = Target(LINES, "amount"), Target(LINES, "unit_price"), Target(LINES, "quantity")
DISCOUNT = Target(LINES, "discount")
MONEY_TARGETS = (AMOUNT, Target(ORDERS, "amount"))
DISCOUNT_WORDS = (DISCOUNT, Target(ORDERS, "discount_amount"))
PRICE_WORDS = (PRICE, Target("canonical_products", "price"), Target("canonical_products", "cost"))
HEADER = 0.45  # header evidence that counts as the header speaking for a target at all
READ = 0.93  # the evidence a checked product earns: above an exact header synonym with fitting values
DEMOTED = 0.3  # a cost or a part of the total keeps this share of its money evidence
LINE_HEADERS = 0.75  # quantity and price evidence that make the file a sale's lines, for the discount rate


@dataclass(frozen=True)
class LineArithmetic:
    """`amount` = what each line was charged; `total` = `quantity` × `price` on every row (the same column unless a
    discount splits it); `not_amounts`: other totals and parts that are no line amount; `costs`: prices that
    make a cost total."""

    amount: str
    total: str
    quantity: str
    price: str
    not_amounts: tuple[str, ...]
    costs: tuple[str, ...]
    charged: str | None = None  # the amount plus a tax: the order's total
    one_per_row: bool = False  # some key is unique on every row: one sale per row


def _score(scored: dict, name: str, targets) -> float:
    evidence = scored.get(name) or {}
    return max((evidence[t].score for t in targets if t in evidence), default=0.0)


def _factors(a: str, b: str, kinds: dict[str, dict], scored: dict) -> tuple[str, str] | None:
    """(quantity, price) of a product a × b: the quantity is the factor the header or whole values call a count."""

    def count(name: str) -> float:
        column = kinds.get(name) or {}
        whole = column.get("type") == "integer" and (column.get("min") or 0) >= 0
        return _score(scored, name, (QUANTITY,)) + (0.5 if whole else 0.0) - _score(scored, name, PRICE_WORDS)

    q, p = (a, b) if count(a) >= count(b) else (b, a)
    quantity_like = _score(scored, q, (QUANTITY,)) >= HEADER or (kinds.get(q) or {}).get("type") == "integer"
    return (q, p) if quantity_like and count(q) > count(p) else None


def read_line_arithmetic(columns: list[dict], grain: dict, scored: dict) -> LineArithmetic | None:
    """The line's total, quantity and price from the file's products, or None when no product is a quantity × a
    price. Several (a revenue and a cost): the one whose total is the other's plus a third column (revenue = cost +
    profit), then the one whose price the header calls the line's unit price."""
    found = grain.get("arithmetic") or {}
    kinds = {c["name"]: c for c in columns}
    candidates = []
    for total, a, b in found.get("products") or []:
        factors = _factors(a, b, kinds, scored)
        if factors:
            candidates.append((total, *factors))
    if not candidates:
        return None
    sums = found.get("sums") or []
    totals = {t for t, _, _ in candidates}

    def rank(candidate: tuple[str, str, str]) -> tuple[bool, float, float]:
        total, _, price = candidate
        above_another = any(c == total and ({x, y} & (totals - {total})) for c, x, y in sums)
        named = _score(scored, price, (PRICE, Target("canonical_products", "price")))
        return (above_another, named, _score(scored, total, (AMOUNT,)))

    total, quantity, price = max(candidates, key=rank)
    # The same quantity at another price makes a cost; at the same price, the same total again (the order's).
    others = [c for c in candidates if c[0] != total and c[1] == quantity and c[2] != price]
    parts = [(x, y) for c, x, y in sums if c == total]
    amount = total
    not_amounts = {c[0] for c in others}
    for x, y in parts:
        discount = next((d for d in (x, y) if _score(scored, d, DISCOUNT_WORDS) >= HEADER), None)
        if discount is not None:
            amount = y if discount == x else x  # gross = discount + net: the net is what the line was charged
            not_amounts |= {total, discount}
            break
        not_amounts |= {x, y}
    not_amounts.discard(amount)
    costs = tuple(sorted({c[2] for c in others} - {price}))
    # The line's amount plus a third column (a tax) is what the sale was charged: the order's, when one key holds it.
    charged = next((c for c, x, y in sums if amount in (x, y) and c not in not_amounts), None)
    keys = grain.get("keys") or {}
    held = charged and any(ev.get("unique") or charged in (ev.get("determines") or []) for ev in keys.values())
    one_per_row = any(ev.get("unique") for ev in keys.values())
    not_amounts = tuple(sorted(not_amounts))
    return LineArithmetic(amount, total, quantity, price, not_amounts, costs, charged if held else None, one_per_row)


def apply_line_arithmetic(found: LineArithmetic, scored: dict, evidence_cls) -> None:
    """The line's amount, price and quantity as the arithmetic reads them; other totals, parts of the total and
    cost prices lose their claim to the sale's money (in place)."""
    product = f"'{found.total}' is '{found.quantity}' × '{found.price}' on every row"
    if found.amount == found.total:
        why_amount = f"{product}: the line's total"
    else:
        why_amount = f"{product}, less a discount: '{found.amount}' is the net the line was charged"
    _raise(scored, found.amount, AMOUNT, why_amount, evidence_cls)
    if found.one_per_row:
        # One sale per row: where the file feeds no lines, the line's total is the order's amount.
        _raise(scored, found.amount, Target(ORDERS, "amount"), why_amount, evidence_cls, score=READ - 0.05)
    _raise(scored, found.price, PRICE, f"{product}: the price the line's total uses", evidence_cls)
    _raise(scored, found.quantity, QUANTITY, f"{product}: the line's quantity", evidence_cls)
    for name in found.not_amounts:
        for target in MONEY_TARGETS:
            _lower(scored, name, target, f"not the line's amount: {product}", evidence_cls)
    if found.charged:
        why = f"'{found.charged}' is '{found.amount}' plus another column on every row: the total charged for the order"
        _lower(scored, found.charged, AMOUNT, why, evidence_cls)
        _raise(scored, found.charged, Target(ORDERS, "amount"), why, evidence_cls)
    for name in found.costs:
        why = f"'{found.quantity}' × it makes another total than '{found.total}': a cost, not the line's price"
        _lower(scored, name, PRICE, why, evidence_cls)


def discount_rates(columns: list[dict], scored: dict, evidence_cls) -> None:
    """A column a header calls a discount whose values are rates between 0 and 1, in a file of a sale's lines
    (a quantity and a price): the share taken off each line's price (in place)."""
    lines = [n for n in scored if _score(scored, n, (QUANTITY,)) >= LINE_HEADERS]
    priced = [n for n in scored if _score(scored, n, (PRICE,)) >= LINE_HEADERS]
    if not lines or not priced:
        return
    for column in columns:
        name = column["name"]
        if column.get("type") != "decimal" or _score(scored, name, (DISCOUNT,)) < HEADER:
            continue
        low, high = column.get("min"), column.get("max")
        try:
            low, high = float(low), float(high)
        except (TypeError, ValueError):
            continue
        if low >= 0 and high <= 1 and high > 0:
            why = f"values are rates between 0 and 1 ({low:g} to {high:g}): the share taken off the price"
            _raise(scored, name, DISCOUNT, why, evidence_cls, score=0.9)


def _raise(scored: dict, name: str, target: Target, why: str, evidence_cls, score: float = READ) -> None:
    evidence = scored.setdefault(name, {})
    current = evidence.get(target)
    if current is None or current.score < score:
        reason = f"{current.reason}; {why}" if current else why
        evidence[target] = evidence_cls(target, score, reason)


def _lower(scored: dict, name: str, target: Target, why: str, evidence_cls) -> None:
    evidence = scored.get(name) or {}
    current = evidence.get(target)
    if current is not None:
        evidence[target] = evidence_cls(target, current.score * DEMOTED, f"{current.reason}; {why}")
