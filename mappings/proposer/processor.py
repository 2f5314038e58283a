"""A payment processor's export (PayPal, Stripe, Square, Shopify Payments), read as the merchant reads it.

Each row is a payment through the processor (a charge, a refund, a transfer) with its gross amount, the
processor's fee and the net that reaches the processor balance: the three add up on every row (gross = net +
fee, or net = gross + fee where the export writes the fee below zero; `profiling.evidence.fee_sums`). The
values say which is which: the fee is the smallest of the three, and its sign says whether the gross or the
net is the sum. The gross is the payment's amount; the fee and the net are not, and a running balance that
moves by the net is the processor account's own balance, not a bank account's spending (`statement`).
A total that is its net plus a tax at one rate is an invoice's or order's, not a processor's: the fee's
header must name a fee, or a running balance must move by the net.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mappings.proposer.scoring import Target, the_one_amount
from mappings.proposer.text import normalize_header

PROCESSOR_TABLE = "canonical_payments"
PAYER_TABLE = "canonical_customers"  # whom a payment came from: the only other entity a processor's rows carry
COUNTERPARTY = 0.8  # a name on a processor's row is the payment's other party
GROSS = 0.95  # the sum (or the addend beside a negative fee) of a gross / fee / net triple: the payment's amount
MOVED = 0.9  # the payment's only date, or the one before every other


@cache
def _fee_words() -> frozenset[str]:
    with (Path(__file__).resolve().parent / "data" / "processor.toml").open("rb") as fh:
        return frozenset(tomllib.load(fh)["fee_words"])


@dataclass
class Processor:
    gross: str
    fee: str
    net: str
    balance: str | None = None

    def reason(self) -> str:
        why = f"'{self.gross}' − '{self.fee}' = '{self.net}' on every row: the gross paid, before the processor's fee"
        if self.balance:
            why += f" ('{self.balance}' is the processor balance, moved by '{self.net}')"
        return why


def read_processor(grain: dict) -> Processor | None:
    """The processor reading of a file, or None: a gross / fee / net triple the rows add up to
    (`profiling.evidence.fee_sums`), whose fee column is named a fee or whose net moves a running balance."""
    grain = grain or {}
    moved_by = {b["amount"]: b["balance"] for b in grain.get("balances") or [] if "amount" in b}
    for found in grain.get("fee_sums") or []:
        named = bool(set(normalize_header(found["fee"]).split()) & _fee_words())
        if named or found["net"] in moved_by:
            return Processor(
                gross=found["gross"], fee=found["fee"], net=found["net"], balance=moved_by.get(found["net"])
            )
    return None


def gross_of(grain: dict) -> str | None:
    """The gross column of the file's processor reading, if any (the calibration's decisive value evidence)."""
    processor = read_processor(grain)
    return processor.gross if processor else None


def processor_tables(selected: list[str]) -> list[str]:
    """A processor's rows are payments, with at most their payers: an item title or a memo on a payment
    ("Artikelbezeichnung") does not make products of it."""
    return [PROCESSOR_TABLE, *(t for t in selected if t == PAYER_TABLE)]


def apply_processor(processor: Processor, scored: dict[str, dict], columns: list[dict], grain: dict, evidence_cls):
    """The gross is the payment's amount; the fee, the net and the balance are no amount at all; the payment's
    date is its only date, or the one before every other (a transaction before its availability) (in place)."""
    the_one_amount(
        scored,
        column=processor.gross,
        target=Target(PROCESSOR_TABLE, "amount"),
        score=GROSS,
        why=processor.reason(),
        not_money=(processor.fee, processor.net, processor.balance),
        evidence_cls=evidence_cls,
    )
    dates = [c["name"] for c in columns if c.get("type") in ("date", "datetime")]
    order = (grain or {}).get("date_order") or {}
    first = [d for d in dates if set(dates) - {d} <= set(order.get(d) or [])]
    target = Target(PROCESSOR_TABLE, "payment_date")
    if first and not any(ev.get(target) and ev[target].score >= MOVED for ev in scored.values()):
        why = "the payment's only date, or the one before every other: the day it was made"
        scored.setdefault(first[0], {})[target] = evidence_cls(target, MOVED, why)
    # A person's or company's name on the row is the payment's other party (no customers table: its reference).
    payer = Target(PROCESSOR_TABLE, "customer_id")
    if not any(payer in ev and ev[payer].score >= COUNTERPARTY for ev in scored.values()):
        named = [
            name
            for name, ev in scored.items()
            if any(t.column == "name" and e.score >= COUNTERPARTY for t, e in ev.items())
            and name in {c["name"] for c in columns if c.get("type") not in ("empty", None)}
        ]
        if len(named) == 1:
            why = "a name on a processor's row: the payment's other party, who paid or was paid"
            scored[named[0]][payer] = evidence_cls(payer, COUNTERPARTY, why)
