"""An account statement (a bank or card export), read as its owner reads it.

A statement lists the movements of one account: each row money in or out, often beside the balance after it.
The profile finds a running balance from the rows themselves (balance[i] = balance[i-1] + the row's amount,
in file order or newest first: `profiling.evidence.balances`); a debit and a credit column never both set,
with no ledger account column that varies, are the same account's money out and in (`ledger.read_pair`); an
unsigned amount beside a column of two values, one marking money out and the other money in (D / C), is too.
Seen from the account's owner, money out is spending: the rows are expenses, as the corpus reads card and
bank exports; the balance and the money in are no expense's amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mappings.proposer.scoring import Target, the_one_amount
from mappings.proposer.text import normalize_header
from mappings.proposer.vocabulary import vocabulary

STATEMENT_TABLE = "canonical_expenses"
MONEY_OUT = 0.92  # the movement a running balance moves by, or the debit side: the expense's amount
PAID_OUT = 2 / 3  # of a payment amount's values below zero for the rows to be money paid out, not received
COUNTERPARTY = 0.8  # a name on a statement is the movement's other party
BOOKED = 0.9  # the statement's only date, or the one before every other: the day of the movement
CURRENCY = 0.9  # three capitals on every row, known currencies among them: the movement's currency


@dataclass
class Statement:
    money_out: str  # the signed amount, or the debit side
    balance: str | None = None
    money_in: str | None = None
    negative: bool = False  # read from the sign of one amount
    marker: str | None = None  # the column saying whether each row's unsigned amount left or entered the account
    marks: tuple[str, str] = ("", "")  # its two values: (money out, money in)

    def reason(self) -> str:
        if self.marker and self.balance:
            out, into = self.marks
            return (
                f"'{self.balance}' is a running balance that moves by '{self.money_out}' taken out on the rows "
                f"'{self.marker}' marks '{out}' and put in on those marked '{into}'"
            )
        if self.marker:
            out, into = self.marks
            return (
                f"'{self.marker}' marks every row '{out}' (out) or '{into}' (in) and '{self.money_out}' is never "
                "below zero: money out and in of one account"
            )
        if self.negative:
            return f"'{self.money_out}' is below zero on most rows: money paid out, not received"
        if self.balance:
            return f"'{self.balance}' is a running balance that moves by '{self.money_out}' on every row"
        return f"'{self.money_out}' and '{self.money_in}' are never both set on a row: money out and in of one account"


def read_statement(grain: dict, pair: tuple[str, str] | None) -> Statement | None:
    """The statement reading of a file, or None: from the profile's running balance, else a debit / credit
    pair that is not a ledger's (`pair`: (debit, credit))."""
    for found in (grain or {}).get("balances") or []:
        if "marker" in found:
            return Statement(
                money_out=found["amount"],
                balance=found["balance"],
                marker=found["marker"],
                marks=(found["out"], found["in"]),
            )
        if "amount" in found:
            return Statement(money_out=found["amount"], balance=found["balance"])
        return Statement(money_out=found["debit"], balance=found["balance"], money_in=found["credit"])
    if pair:
        return Statement(money_out=pair[0], money_in=pair[1])
    return None


def _marks(column: dict) -> tuple[str, str] | None:
    """(money out, money in): a column's two values when one marks a debit and the other a credit."""
    if column.get("distinct") != 2 or len(column.get("top") or []) != 2:
        return None
    words = vocabulary().ledger
    values = [str(t["value"]).strip() for t in column["top"]]
    out = [v for v in values if v.lower().rstrip(".") in words["debit_marks"]]
    into = [v for v in values if v.lower().rstrip(".") in words["credit_marks"]]
    return (out[0], into[0]) if len(out) == 1 and len(into) == 1 and out != into else None


def read_marked(columns: list[dict]) -> Statement | None:
    """The statement reading of a file whose one amount is never below zero while a column beside it, set on the
    same rows, holds two values marking money out and money in (Knab's D / C, Swedbank's D / K): the direction
    is in the marker, not in the amount's sign."""
    for marker in columns:
        marks = _marks(marker)
        if not marks:
            continue
        unsigned = [
            c
            for c in columns
            if c.get("type") == "decimal"
            and c.get("min") is not None
            and float(c["min"]) >= 0
            and (c.get("null_share") or 0) <= (marker.get("null_share") or 0) + 0.01
        ]
        if len(unsigned) == 1:
            return Statement(money_out=unsigned[0]["name"], marker=marker["name"], marks=marks)
    return None


MONEY_IN = ("canonical_payments", "canonical_orders")  # rows of money received: their amounts are positive


def paid_out(scored: dict[str, dict], grain: dict, table: str) -> Statement | None:
    """A payments (or orders) reading whose amount is negative on most rows: money received is positive, so
    these rows are money leaving the account (a bank export with one signed amount), its owner's spending."""
    if table not in MONEY_IN:
        return None
    target = Target(table, "amount")
    ranked = sorted(((ev[target].score, name) for name, ev in scored.items() if target in ev), reverse=True)
    if not ranked:
        return None
    name = ranked[0][1]
    if ((grain or {}).get("negative_share") or {}).get(name, 0) < PAID_OUT:
        return None
    return Statement(money_out=name, negative=True)


def _movement_date(columns: list[dict], date_order: dict[str, list[str]]) -> str | None:
    """The statement's only date column, or the one that comes before every other (a purchase before its
    posting)."""
    dates = [c["name"] for c in columns if c.get("type") in ("date", "datetime")]
    first = [d for d in dates if set(dates) - {d} <= set(date_order.get(d) or [])]
    # Dates equal on every row (booked and valued the same day): the leftmost, the booking date.
    return first[0] if first else None


def _currency(scored: dict[str, dict], columns: list[dict], evidence_cls) -> None:
    """The one column whose values are all three capitals, known currency codes among them (EUR, HUF; an old
    LTL beside EUR), is the currency the account's movements are in, whatever its header ("Valutacode")."""
    target = Target(STATEMENT_TABLE, "currency")
    if any(target in ev and ev[target].score >= CURRENCY for ev in scored.values()):
        return
    known = vocabulary().currency_codes
    coded = [
        c["name"]
        for c in columns
        if c.get("type") in ("category", "identifier", "text")
        and (values := [str(t["value"]).strip() for t in c.get("top") or []])
        and len(values) >= (c.get("distinct") or 0)
        and all(re.fullmatch(r"[A-Z]{3}", v) for v in values)
        and any(v.lower() in known for v in values)
    ]
    if len(coded) == 1:
        why = "values are currency codes: the currency of the account's movements"
        scored.setdefault(coded[0], {})[target] = evidence_cls(target, CURRENCY, why)


def apply_statement(
    statement: Statement, scored: dict[str, dict], columns: list[dict], grain: dict, evidence_cls
) -> None:
    """Money out is the expense's amount; the balance and the money in are no amount at all; the movement's
    date is the expense's date, whatever its header says (a bank's "Posted", "Buchungstag") (in place)."""
    date = _movement_date(columns, (grain or {}).get("date_order") or {})
    target = Target(STATEMENT_TABLE, "expense_date")
    if date and not any((ev.get(target) and ev[target].score >= BOOKED) for ev in scored.values()):
        why = "the statement's only date, or the one before every other: the day of the movement"
        scored.setdefault(date, {})[target] = evidence_cls(target, BOOKED, why)
    # A statement's "Account" is its owner's own account (a number, an IBAN), not an expense's ledger account.
    words = vocabulary().ledger["account_words"]
    for column in columns:
        if set(normalize_header(column["name"]).split()) & words:
            scored[column["name"]] = {}
    # A person's or company's name on a statement is the other party of the movement: whom the money went to.
    vendor = Target(STATEMENT_TABLE, "vendor")
    # One value on every row ("Current") names the account or its product, never the other party of each movement.
    varies = {c["name"] for c in columns if (c.get("distinct") or 0) > 1}
    if not any(vendor in ev and ev[vendor].score >= COUNTERPARTY for ev in scored.values()):
        named = [
            (max(e.score for t, e in ev.items() if t.column == "name" and t.table != STATEMENT_TABLE), name)
            for name, ev in scored.items()
            if name in varies
            and any(
                t.column == "name" and t.table != STATEMENT_TABLE and e.score >= COUNTERPARTY for t, e in ev.items()
            )
        ]
        if len(named) == 1:
            name = named[0][1]
            why = "a name on a statement: the other party of the movement, whom the money went to"
            scored[name][vendor] = evidence_cls(vendor, COUNTERPARTY, why)
    if statement.marker:  # a direction, not a category or a status of the movement
        scored[statement.marker] = {}
    _currency(scored, columns, evidence_cls)
    the_one_amount(
        scored,
        column=statement.money_out,
        target=Target(STATEMENT_TABLE, "amount"),
        score=MONEY_OUT,
        why=f"{statement.reason()}: the money spent",
        not_money=(statement.balance, statement.money_in),
        evidence_cls=evidence_cls,
    )


def sign_by_marker(statement: Statement, proposals: list) -> None:
    """With a direction marker, the unsigned amount loads signed as the marker says: money out below zero, as a
    statement with a signed amount loads (an `negate` step where the marker holds the money-out value) (in place)."""
    if not statement.marker:
        return
    out = statement.marks[0]
    for p in proposals:
        if p.source_col == statement.money_out and p.target == Target(STATEMENT_TABLE, "amount"):
            step = {"op": "negate", "column": statement.marker, "values": [out]}
            if any(s.get("op") == "negate" for s in p.transform or []):
                continue  # signed already (a mapping learned from this layout): twice would unsign it
            p.transform = [*(p.transform or []), step]
            p.reason = f"{p.reason}; signed by '{statement.marker}': '{out}' rows are money out, below zero"


def balance_lines(statement: Statement, grain: dict) -> dict | None:
    """options.skip_rows for a statement's rows that are no movement: the profile's `summary_rows`, rows of a
    kind (a row-type code) that never carry the reference every movement carries (Swedbank's opening, turnover
    and closing balance lines, between its movements). Loaded, they would count balances as spending."""
    found = (grain or {}).get("summary_rows")
    if not found or found["kind"] in (statement.money_out, statement.marker, statement.balance):
        return None
    values = ", ".join(f"'{v}'" for v in found["values"])
    return {
        "column": found["kind"],
        "values": list(found["values"]),
        "reason": (
            f"rows whose '{found['kind']}' is {values} carry no '{found['reference']}', the entry every movement "
            "has: the statement's balance and total lines, not movements"
        ),
    }
