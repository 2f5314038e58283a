"""A double-entry ledger export, read as an accountant reads it.

Accounting systems (Wave, QuickBooks, DATEV…) export transactions as postings: each transaction is
posted to two or more accounts, once as a debit and once as a credit. Such a file shows a debit and a
credit amount that are never both set on one row. There, an "account" is a ledger account (Sales,
Accounts Receivable, Computer – Hardware), not a customer; a posting's amount is not an invoice's total;
and loading every row would count each transaction twice: which rows to load needs a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from canonical.schema import TABLES_BY_NAME
from mappings.proposer.text import normalize_header
from mappings.proposer.vocabulary import vocabulary

MONEY = ("decimal", "integer")
CLASSIFIES = 0.8  # an account column determined by another account column classifies that account


@dataclass
class Ledger:
    debit: str
    credit: str
    accounts: list[str] = field(default_factory=list)  # columns naming or classifying the ledger account

    def reason(self) -> str:
        return (
            f"'{self.debit}' and '{self.credit}' are never both set on a row: a double-entry ledger, each "
            "transaction posted to two or more accounts"
        )


def _words(name: str) -> set[str]:
    return set(normalize_header(name).split())


def read_pair(columns: list[dict], rows: int) -> tuple[str, str] | None:
    """(debit, credit): a debit and a credit amount never both set on a row, or None."""
    words = vocabulary().ledger
    debit = [c for c in columns if c.get("type") in MONEY and _words(c["name"]) & words["debit_words"]]
    credit = [c for c in columns if c.get("type") in MONEY and _words(c["name"]) & words["credit_words"]]
    if not debit or not credit or not rows:
        return None
    d, c = debit[0], credit[0]
    filled = (1 - d.get("null_share", 0)) * rows + (1 - c.get("null_share", 0)) * rows
    if filled > rows * 1.02:  # both amounts on most rows: a statement with two columns, not postings
        return None
    return d["name"], c["name"]


def read_ledger(columns: list[dict], rows: int) -> Ledger | None:
    """The ledger reading of a file (from its profile's columns), or None when it is not one."""
    pair = read_pair(columns, rows)
    if pair is None:
        return None
    words = vocabulary().ledger
    accounts = [x for x in columns if _words(x["name"]) & words["account_words"]]
    # Postings go to several accounts; one account's (or a card's) money out and in is a statement.
    if not any((x.get("distinct") or 0) > 1 for x in accounts):
        return None
    return Ledger(debit=pair[0], credit=pair[1], accounts=[x["name"] for x in accounts])


def apply_ledger(ledger: Ledger, scored: dict[str, dict], grain: dict, evidence_cls) -> None:
    """Weigh header evidence by the ledger reading (in place)."""
    keys = (grain or {}).get("keys") or {}
    for name in ledger.accounts:
        evidence = scored.get(name, {})
        for target in list(evidence):
            spec = TABLES_BY_NAME[target.table].column(target.column)
            if target.table == "canonical_customers" or spec.references == "canonical_customers":
                evidence.pop(target)
        owner = next(
            (
                k
                for k in ledger.accounts
                if k != name
                and name in (keys.get(k) or {}).get("determines", [])
                and k not in (keys.get(name) or {}).get("determines", [])
            ),
            None,
        )
        if owner:
            for target, ev in list(evidence.items()):
                why = f"constant within each '{owner}': it classifies that account"
                evidence[target] = evidence_cls(target, ev.score * CLASSIFIES, f"{ev.reason}; {why}")


def posting_amounts_are_not_totals(ledger: Ledger, scored: dict[str, dict], primary: str | None, evidence_cls):
    """A posting's debit or credit is not the total of a document (an invoice spans several postings);
    for expenses, a posting to an expense account is the expense."""
    if primary in (None, "canonical_expenses"):
        return
    for name in (ledger.debit, ledger.credit):
        evidence = scored.get(name, {})
        for target, ev in list(evidence.items()):
            if target.table == primary and TABLES_BY_NAME[target.table].column(target.column).type == "money":
                why = f"a posting to one account, not the {primary.removeprefix('canonical_').rstrip('s')}'s total"
                evidence[target] = evidence_cls(target, ev.score * 0.3, f"{ev.reason}; {why}")
