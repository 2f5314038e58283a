"""Honest confidence: no single kind of evidence makes a proposal confident on its own.

Every rule of the proposer (a synonym, a structural reading of the grain) was written beside some file; a
rule that alone decides a column is right on the files it was written for and a guess elsewhere. So a
proposal reaches the auto-accept threshold only when two independent kinds of evidence agree:

  - the header: how strongly the header words alone name the target (the synonym tables, `_header_evidence`);
  - the values: whether the column's values fit what the target holds (every value reads as a date, numbers
    for money, small whole numbers for a quantity, a key unique at its grain, names that are words, e-mail
    addresses, a status the table knows, …), read from the profile independently of the header;

or when the values are decisive on their own (e-mail addresses for an email column; the file's only date
column, every value read, for the date its table needs). Values that contradict the target's type (a
"date" column whose values are no dates, words as an amount) pull the proposal far below the threshold,
whatever the header says; a header, or a structural rule, with nothing in the values to back it stays
just below it: the review page shows it as a guess, `ingest --auto` does not load it unseen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from canonical.schema import TABLES_BY_NAME
from mappings.proposer.processor import PROCESSOR_TABLE, gross_of
from mappings.proposer.scoring import (
    GENERIC_KEYS,
    KEY_SUFFIXES,
    Target,
    _header_evidence,
    _money_shaped,
    _number,
    _short_codes,
    _top_values,
    entity_owner,
)
from mappings.proposer.structure import event_date_column
from mappings.proposer.text import normalize_header, normalize_text
from mappings.proposer.vocabulary import vocabulary

HEADER_NAMES = 0.45  # header evidence that counts as the header speaking for the target at all
HEADER_KEY = 0.5  # a header ending in id/number/code/key/no says the column identifies something (not what)
ONE_KIND = 0.65  # the most one kind of evidence earns: below MAPPING_AUTO_CONFIDENCE (0.7), a person confirms
CONTRADICTED = 0.4  # values that cannot be the target's: far below the threshold
FEW_VALUES = 12  # a column with at most this many values over many rows is a category, never a key
MANY_ROWS = 50  # ... when there are at least this many rows

AGREE, NEUTRAL, CONTRADICT = "agree", "neutral", "contradict"
_CATEGORIES = frozenset(
    {"country", "city", "segment", "category", "team", "method", "warehouse", "department", "status", "currency"}
)
_GROUPINGS = frozenset({"category", "segment", "team", "department"})  # columns whose point is to split the rows
_NUMERIC = frozenset({"integer", "decimal"})
_DOCUMENTS = frozenset({"canonical_orders", "canonical_order_lines", "canonical_invoices", "canonical_payments"})


@dataclass(frozen=True)
class Signals:
    """What spoke for one proposal: the header's strength, the values' verdict (and why), decisiveness."""

    header: float
    values: str
    why: str = ""
    decisive: bool = False

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k, on in (("header", self.header >= HEADER_NAMES), ("values", self.values == AGREE)) if on)


def header_strength(name: str, target: Target) -> float:
    """How strongly the header words alone name `target`: its own evidence, or, for a reference, the
    evidence that it names the referenced entity's key or name ("Customer ID" names the customer); for a key
    or a reference, a header that calls the column an id or number ("InvoiceNo", "TrackId") says it is one,
    whichever entity the grain then gives it to."""
    phrase = normalize_header(name)
    evidence = _header_evidence(phrase)
    best = evidence[target].score if target in evidence else 0.0
    referenced = target.references
    words = phrase.split()
    entity = referenced or target.table
    if (target.column == "external_id" or referenced) and words and words[-1] in KEY_SUFFIXES:
        # ... unless its words name an unrelated entity: a seller's id is no customer's.
        named = {entity_owner().get(w) for w in words[:-1]} - {None}
        if all(_related(t, entity) for t in named):
            best = max(best, HEADER_KEY)
    if phrase in GENERIC_KEYS and target.column == "external_id":
        best = max([best, *(ev.score for t, ev in evidence.items() if t.column == "external_id")])
    if referenced:
        for t, ev in evidence.items():
            if t.table == referenced and t.column in ("external_id", "name", "email"):
                best = max(best, ev.score)
    return best


def _related(a: str, b: str) -> bool:
    """Whether a key of `a` may stand for a key of `b`: the same table, two documents (an invoice number keys
    a sale), or one refers to the other (a stock code is a product's)."""
    if a == b or (a in _DOCUMENTS and b in _DOCUMENTS):
        return True
    return b in TABLES_BY_NAME[a].references.values() or a in TABLES_BY_NAME[b].references.values()


def value_verdict(
    column: dict, target: Target, *, grain: dict, date_columns: int, money_columns: int = 0
) -> tuple[str, str, bool]:
    """(agree | neutral | contradict, why, decisive): what the column's values say about `target`, from the
    profile alone."""
    kind = column.get("type", "text")
    if kind == "empty":
        return NEUTRAL, "no values", False
    spec = TABLES_BY_NAME[target.table].column(target.column)
    ttype, col = spec.type, target.column
    if ttype in ("date", "timestamp"):
        if kind not in ("date", "datetime"):
            return CONTRADICT, f"its values are not dates ({kind})", False
        # Day and month undecided are dates still: the gate asks for the order (--date-order), not the column.
        # The file's only date column, every value read: the date its table needs, whatever the header says.
        return (
            AGREE,
            f"every value reads as a date ({column.get('format')})",
            _event_date(column, target, grain, date_columns),
        )
    if ttype in ("money", "number", "integer"):
        if kind not in _NUMERIC:
            return CONTRADICT, f"its values are not numbers ({kind})", False
        if spec.required and column.get("min") == 0 and column.get("max") == 0:
            return CONTRADICT, "every value is 0", False
        # A running balance moves by it on every row: the whole file says it is each row's money.
        if col == "amount" and any(
            column.get("name") in (b.get("amount"), b.get("debit")) for b in grain.get("balances") or []
        ):
            return AGREE, "a running balance moves by it on every row", True
        # The gross of a processor's gross / fee / net rows: what the payment was, before the fee.
        if col == "amount" and target.table == PROCESSOR_TABLE and column.get("name") == gross_of(grain):
            return AGREE, "the gross of a gross / fee / net that add up on every row", True
        # Another column times a third makes it on every row: a line's total (quantity × unit price).
        if col == "amount" and target.table == "canonical_order_lines" and _a_product(column, grain):
            return AGREE, "two other columns multiply to it on every row (quantity × price)", True
        # A factor of a line's total (quantity × price = total on every row) counts or prices, numbers no row.
        if col in ("quantity", "unit_price") and _a_factor(column, grain):
            return AGREE, "it multiplies another column into a third on every row (quantity × price)", False
        if kind == "integer" and column.get("id_like") and column.get("unique"):
            return NEUTRAL, "whole numbers unique on every row: they may number the rows", False
        # The file's only money column, for the amount its table needs: nothing else could be it.
        if col == "amount" and spec.required and money_columns == 1 and kind == "decimal" and _money_shaped(column):
            return AGREE, "the file's only money column (whole cents)", True
        return AGREE, "values are numbers", False
    if ttype == "boolean":
        if kind == "boolean":
            return AGREE, "values are yes/no", False
        return (
            (NEUTRAL, "two values", False) if (column.get("distinct") or 0) <= 2 else (CONTRADICT, "not yes/no", False)
        )
    if kind in ("date", "datetime"):
        return CONTRADICT, "its values are dates", False
    if col == "email":
        return (
            (AGREE, "values are e-mail addresses", True)
            if kind == "email"
            else (CONTRADICT, "no e-mail addresses", False)
        )
    if col == "phone":
        return (AGREE, "values are phone numbers", False) if kind == "phone" else (NEUTRAL, "", False)
    if col == "external_id" or target.references:
        return _key_verdict(column, target, grain)
    if col in ("name", "vendor", "title"):
        if kind in (*_NUMERIC, "boolean"):
            return CONTRADICT, "its values are numbers", False
        if _short_codes(column):
            return CONTRADICT, "short upper-case codes, not names", False
        if kind == "identifier" and _codes(column):
            return CONTRADICT, "codes (one token with digits: C04567), not names", False
        if kind == "email":
            return NEUTRAL, "", False
        if _worded(column):
            return AGREE, "values are words", False
        return NEUTRAL, "", False
    if col in _CATEGORIES:
        if kind in (*_NUMERIC, "boolean", "email"):
            return CONTRADICT, f"its values are {kind}s, not a category", False
        # One value on every row ("Inventory" on all 60 items) splits no rows: nothing to chart by, whatever the
        # header says; a currency or a status may well be one value throughout.
        rows = grain.get("rows") or 0
        if col in _GROUPINGS and rows >= MANY_ROWS and column.get("distinct") == 1:
            return NEUTRAL, f"one value on all {rows} rows: it groups nothing", False
        # ACH_CREDIT, CARD_PAYMENT, DEPOSIT: one upper-case token per value is how a system names the kinds of its
        # records (a bank's movement types), not a grouping a person chose: the header alone decides nothing.
        if col in _GROUPINGS and _system_codes(column):
            return NEUTRAL, "upper-case tokens (a system's kinds of record), not groupings a person named", False
        if col == "status" and _known_status(column, target):
            return AGREE, "values are statuses of the table", False
        if col == "currency" and _currency_codes(column):
            return AGREE, "values are currency codes", False
        if kind == "category" or (_worded(column) and _repeats(column, grain)):
            return AGREE, "words that repeat over the rows: a grouping", False
        if col == "category" and _worded(column) and _labels(column):
            return AGREE, "short labels (a list of the groupings themselves)", False
        if col == "city" and _worded(column):
            return AGREE, "values are words (place names)", False
        if col == "country" and _short_codes(column):
            return AGREE, "values are country codes", False
        return NEUTRAL, "", False
    return NEUTRAL, "", False


def _a_product(column: dict, grain: dict) -> bool:
    return any(c == column.get("name") for c, _, _ in (grain.get("arithmetic") or {}).get("products") or [])


def _a_factor(column: dict, grain: dict) -> bool:
    products = (grain.get("arithmetic") or {}).get("products") or []
    return any(column.get("name") in (a, b) for _, a, b in products)


def _key_verdict(column: dict, target: Target, grain: dict) -> tuple[str, str, bool]:
    kind, name = column.get("type", "text"), column["name"]
    if kind in ("decimal", "boolean"):
        return CONTRADICT, f"{kind} values are no keys", False
    rows = grain.get("rows") or 0
    distinct = column.get("distinct") or 0
    own_key = target.column == "external_id"
    worded = kind in ("text", "category", "free_text") and _words_without_digits(column)
    if worded and target.table in _DOCUMENTS and own_key:
        return CONTRADICT, "worded values number no document", False
    key = (grain.get("keys") or {}).get(name) or {}
    if own_key and (column.get("unique") or key.get("unique")):
        return AGREE, "unique on every row", False
    if own_key and (key.get("determines") or key.get("nearly")):
        return AGREE, "repeats only with its entity's facts", False
    # A document number shared by many rows that fixes none of their facts (a week number): a grouping.
    if own_key and target.table in _DOCUMENTS and rows >= MANY_ROWS and 0 < distinct <= FEW_VALUES:
        return CONTRADICT, f"{distinct} distinct values over {rows} rows fixing no other column: a category", False
    # One value on every row refers to nobody in particular: the export's own account (a POS merchant's id).
    if not own_key and rows >= MANY_ROWS and distinct == 1:
        return NEUTRAL, f"one value on all {rows} rows: it tells no row from another", False
    # Codes or numbers (a key repeated on one group's rows, a reference), or names looked up by name.
    if kind in ("identifier", "integer") or (kind == "email" and "email" in _lookup(target)):
        return AGREE, "values are identifiers", False
    if _codes(column):
        return AGREE, "values are codes (one token with digits: #1001, SO-12)", False
    if not own_key and _worded(column) and "name" in _lookup(target):
        return AGREE, "values are names, looked up by name", False
    return NEUTRAL, "", False


def _lookup(target: Target) -> tuple[str, ...]:
    return tuple(TABLES_BY_NAME[target.references].lookup_columns) if target.references else ()


def _worded(column: dict) -> bool:
    """Most shown values carry letters (names, labels), not only digits and signs."""
    values = _top_values(column)
    return bool(values) and sum(1 for v in values if re.search(r"[^\W\d_]", v)) >= 0.8 * len(values)


# A short upper-case prefix, a separator and a number: 'SO - 000101', 'INV 0042' (a document's number, spaced).
_PREFIXED_NUMBER = re.compile(r"[A-Z]{1,4}\s*[-/#.:]?\s*\d+")


def _codes(column: dict) -> bool:
    """Nearly all shown values are one token carrying a digit, or a short prefix and a number: numbers of things,
    not words."""
    values = _top_values(column)
    codes = [
        v
        for v in values
        if v.strip()
        and (" " not in v.strip() and any(ch.isdigit() for ch in v) or _PREFIXED_NUMBER.fullmatch(v.strip()))
    ]
    return bool(values) and len(codes) >= 0.8 * len(values)


_SYSTEM_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


def _system_codes(column: dict) -> bool:
    """Every shown value one upper-case token (letters, digits, underscores), at least one a word longer than a
    country or currency code: 'ACH_CREDIT', 'CARD_PAYMENT', 'DEPOSIT'."""
    values = [v.strip() for v in _top_values(column)]
    return bool(values) and all(_SYSTEM_CODE.fullmatch(v) for v in values) and any(len(v) > 3 for v in values)


def _labels(column: dict) -> bool:
    """Values of at most three words: the names of groupings, not sentences describing one thing."""
    values = _top_values(column)
    return bool(values) and all(len(v.split()) <= 3 for v in values)


def _repeats(column: dict, grain: dict) -> bool:
    """Values shared by several rows: at most one distinct value per two rows."""
    rows = grain.get("rows") or 0
    return rows > 0 and 0 < (column.get("distinct") or 0) <= rows / 2


def _event_date(column: dict, target: Target, grain: dict, date_columns: int) -> bool:
    """The date its table's rows happen on, by the values alone: the file's only date column, or the one that
    comes before every other date column on every row (an order is placed before it ships)."""
    event = event_date_column(target.table)
    if event is None or event.name != target.column:
        return False
    if date_columns == 1:
        return True
    before = set((grain.get("date_order") or {}).get(column["name"], ()))
    return len(before) == date_columns - 1


def _words_without_digits(column: dict) -> bool:
    values = _top_values(column)
    return bool(values) and all(" " in v.strip() and not any(ch.isdigit() for ch in v) for v in values)


def _known_status(column: dict, target: Target) -> bool:
    table = vocabulary().status_synonyms.get(target.key) or {}
    return any(normalize_text(t["value"]).strip() in table for t in column.get("top", []))


def _currency_codes(column: dict) -> bool:
    codes = _top_values(column)
    return bool(codes) and all(re.fullmatch(r"[A-Z]{3}|[$€£¥]", c.strip()) for c in codes)


def read_signals(
    column: dict | None, target: Target, *, grain: dict, date_columns: int, money_columns: int = 0
) -> Signals:
    """The evidence behind proposing `column` for `target` (a computed column, no source: no evidence)."""
    if column is None:
        return Signals(0.0, NEUTRAL, "no source column")
    verdict, why, decisive = value_verdict(
        column, target, grain=grain, date_columns=date_columns, money_columns=money_columns
    )
    return Signals(header_strength(column["name"], target), verdict, why, decisive)


def calibrated(confidence: float, signals: Signals) -> tuple[float, str]:
    """(the confidence the evidence earns, what to add to the reason; "" when unchanged)."""
    if signals.values == CONTRADICT:
        if confidence <= CONTRADICTED:
            return confidence, ""
        return CONTRADICTED, f"but {signals.why}: the values contradict it"
    if confidence <= ONE_KIND or len(signals.kinds) >= 2 or (signals.decisive and signals.values == AGREE):
        return confidence, ""
    if signals.kinds == ("values",):
        return ONE_KIND, f"only the values speak for it ({signals.why}), no header word: a person confirms"
    if signals.kinds == ("header",):
        return ONE_KIND, "only the header speaks for it, nothing in the values confirms it: a person confirms"
    return ONE_KIND, "neither the header nor the values name it (the file's structure alone): a person confirms"


def one_item_per_row_holds(proposals, by_name: dict, number: str) -> bool:
    """A quantity of 1 on every row, read from items numbered 1..n within each order, is backed by a second,
    whole-file kind of evidence when no column's values could be a count (whole numbers left unmapped): the
    money on each row is then that row's value whatever it counted, so the revenue stays the file's."""
    unmapped = {p.source_col for p in proposals if p.source_col and p.target is None} - {number}
    for name in unmapped:
        column = by_name.get(name) or {}
        if column.get("type") == "integer" and not column.get("unique") and _number(column.get("min")) >= 0:
            return False
    return True
