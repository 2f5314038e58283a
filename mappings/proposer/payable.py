"""Supplier bills and payments (accounts payable), read as the business that pays them reads them.

An invoice, a payment or an order names its other party: a sales document its customer, a purchase its
supplier. When the only party a file's rows name is a supplier, and that supplier repeats over rows that
each carry an amount (a vendor's several bills, not a vendor list), the rows are money owed or paid to
suppliers: the business's spending, its expenses, whatever the document's headers call it ("invoice_id",
"Invoice_Date"). Loaded as invoices, they would be counted as revenue.
"""

from __future__ import annotations

from dataclasses import dataclass

from mappings.proposer.scoring import Target

PAYABLE_TABLE = "canonical_expenses"
DOCUMENTS = ("canonical_invoices", "canonical_payments", "canonical_orders")
SUPPLIER = {
    Target("canonical_suppliers", "name"),
    Target("canonical_suppliers", "external_id"),
    Target("canonical_expenses", "vendor"),
    Target("canonical_products", "supplier_id"),
}
PARTY = 0.75  # evidence with which a column names the rows' other party
AHEAD = 0.03  # ... ahead of every customer reading of it ("Name" alone is anyone's)
MONEY = 0.5  # evidence with which a column may be a document's amount (whole numbers: its header decides)
# What a document's column is on the expense: its key, its own date, its money.
EQUIVALENT = {
    "external_id": "external_id",
    "invoice_date": "expense_date",
    "payment_date": "expense_date",
    "order_date": "expense_date",
    "amount": "amount",
    "currency": "currency",
}
NAME_OVER_ID = 0.95  # a supplier id names the vendor only where no column gives its name


@dataclass
class Payable:
    supplier: str  # the column naming the supplier, repeating over its documents
    amount: str  # the documents' money

    def reason(self) -> str:
        return (
            f"'{self.supplier}' names a supplier, repeating over rows that each carry '{self.amount}', and no "
            "column names a customer: money owed or paid to suppliers, the business's spending"
        )


def _customer(target: Target) -> bool:
    return target.table == "canonical_customers" or target.column == "customer_id"


def _product(target: Target) -> bool:
    return (target.table == "canonical_products" and target.column in ("external_id", "name")) or (
        target.column == "product_id"
    )


def _party(evidence: dict) -> tuple[float, float]:
    """(the best supplier reading, the best customer reading) of a column."""
    supplier = max((ev.score for t, ev in evidence.items() if t in SUPPLIER), default=0.0)
    customer = max((ev.score for t, ev in evidence.items() if _customer(t)), default=0.0)
    return supplier, customer


def read_payable(scored: dict[str, dict], columns: list[dict], grain: dict, totals: dict[str, float]) -> Payable | None:
    """The payables reading of a file, or None: its columns read best as documents (`totals`: each table's
    score from the columns alone; the lines of a sale name their product's seller, who is no party to them), a
    column naming a supplier that repeats (distinct values fewer than the rows), no column naming a customer or
    a product (whose supplier that may be), and a document's amount with values."""
    if not totals or max(totals, key=lambda t: totals[t]) not in (*DOCUMENTS, PAYABLE_TABLE):
        return None
    by_name = {c["name"]: c for c in columns}
    rows = (grain or {}).get("rows") or 0
    suppliers, others = [], []
    for name, evidence in scored.items():
        column = by_name.get(name) or {}
        if column.get("type") == "empty":
            continue
        supplier, customer = _party(evidence)
        product = max((ev.score for t, ev in evidence.items() if _product(t)), default=0.0)
        if supplier >= PARTY and supplier - max(customer, product) >= AHEAD:
            suppliers.append(name)
        elif max(customer, product) >= PARTY and max(customer, product) - supplier >= AHEAD:
            # A customer makes the rows sales; a product's supplier may be the product's, not the document's.
            others.append(name)
    # One value on every row is the file's owner (the store's own name on each of its orders), not the party
    # each row deals with: a supplier named by the rows varies, at least between two of them.
    repeating = [n for n in suppliers if 1 < (by_name[n].get("distinct") or 0) < rows]
    if not repeating or others:
        return None
    money = sorted(
        (
            (ev.score, name)
            for name, evidence in scored.items()
            if (by_name.get(name) or {}).get("type") in ("decimal", "integer")
            for t, ev in evidence.items()
            if t.table in DOCUMENTS and t.column == "amount" and ev.score >= MONEY
        ),
        reverse=True,
    )
    if not money:
        return None
    return Payable(supplier=repeating[0], amount=money[0][1])


def apply_payable(payable: Payable, scored: dict[str, dict], evidence_cls) -> None:
    """A document's key, own date, amount and currency are the expense's; the supplier's name (its id where
    the file gives no name) is the expense's vendor (in place)."""
    for evidence in scored.values():
        for target, ev in list(evidence.items()):
            column = EQUIVALENT.get(target.column) if target.table in DOCUMENTS else None
            if column is None:
                continue
            mine = Target(PAYABLE_TABLE, column)
            if mine not in evidence or evidence[mine].score < ev.score:
                why = f"{ev.reason}; {payable.reason()}: the expense's {column.replace('_', ' ')}"
                evidence[mine] = evidence_cls(mine, ev.score, why)
    vendor = Target(PAYABLE_TABLE, "vendor")
    named = any(
        ev.score >= PARTY
        for evidence in scored.values()
        for t, ev in evidence.items()
        if t.column == "name" and t in SUPPLIER
    )
    for evidence in scored.values():
        for target, ev in list(evidence.items()):
            if target not in SUPPLIER or target == vendor or ev.score < PARTY:
                continue
            score = ev.score if target.column == "name" or not named else ev.score * NAME_OVER_ID
            if vendor not in evidence or evidence[vendor].score < score:
                why = f"{ev.reason}; the supplier the money goes to: the expense's vendor"
                evidence[vendor] = evidence_cls(vendor, score, why)
