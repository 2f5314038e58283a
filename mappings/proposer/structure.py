"""From a file's grain to the tables it feeds: what one row is, which entities it carries, who owns
each column. The analyst's reading before any header word is trusted alone:

  - a key column that is unique per row names the row's entity (one row per order: an orders file);
  - an order key that repeats, with columns that vary within it (a product, a quantity, a line total),
    makes the file line-level: it feeds order lines and creates their orders, customers and products;
  - a column constant within each value of a key (an order's date on every line of the order) belongs
    to that key's entity; a column that varies within every parent key belongs to the row;
  - a key earns `external_id` only at its table's grain: unique per row there, or repeating only with
    identical values of its table's other columns (a denormalized parent).

Header evidence (proposer.scoring) says which entity a key column names; the grain says what it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from canonical.schema import TABLES_BY_NAME
from mappings.proposer.scoring import GENERIC_KEYS, Target, _money_shaped, writer_index
from mappings.proposer.text import normalize_header
from mappings.proposer.vocabulary import vocabulary

ORDERS = "canonical_orders"
LINES = "canonical_order_lines"
# Tables whose rows hang below an order: a repeating order key with these columns varying is their grain.
_BELOW_ORDER = ("canonical_order_lines", "canonical_payments", "canonical_invoices")
_DOCUMENTS = (ORDERS, *_BELOW_ORDER)  # tables whose rows are numbered, never named
ENTITY_EVIDENCE = 0.7  # header evidence a key needs to name its entity
OWN_ID = 0.85  # header evidence for "this is the table's own id" that, with unique values, names the row
NEARLY_ALL = 0.9  # share of rows a key set on all but a few rows must cover
CLEARER = 0.2  # header evidence by which a repeating column names an entity better than a unique one
ENTITY_MARGIN = 0.05  # ... ahead of any other entity ("id" alone names none)


@dataclass
class Structure:
    grain_table: str | None = None
    grain_reason: str = ""
    keys: dict[str, str] = field(default_factory=dict)  # table -> the column that identifies its rows
    key_of: dict[str, str] = field(default_factory=dict)  # column -> the table it identifies
    owner: dict[str, str] = field(default_factory=dict)  # non-key column -> the table it describes
    owner_reason: dict[str, str] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)  # grain table first, then its parents
    line_key: tuple[str, str] | None = None  # (parent key, number within it) making a row unique
    line_numbers: bool = False  # the number within it runs 1, 2, 3 … in each order
    not_keys: dict[str, str] = field(default_factory=dict)  # column -> why it is no table's key
    row_number: str | None = None  # a unique column that names no entity (Row ID): a row number
    unique: dict[str, bool] = field(default_factory=dict)  # key candidate -> unique per row
    unique_where_set: dict[str, bool] = field(default_factory=dict)  # ... unique where set, set nearly always
    row_ids: dict[str, str] = field(default_factory=dict)  # table -> a column unique per row its header calls its id
    # table -> its key, repeating on rows below it with the table's own facts constant (an invoice's
    # fields on each of its item lines): the key stays; what varies within it is not the table's.
    item_key: dict[str, str] = field(default_factory=dict)
    varies_within: dict[str, str] = field(default_factory=dict)  # column -> the item key it varies within
    key_evidence: dict[str, dict] = field(default_factory=dict)  # key column -> its grain evidence
    sale_document: tuple[str, str] | None = None  # (key, table it names): a document number keying a sale's lines
    sale_date: str | None = None  # the only date of rows that are each a sale of one line: when it was made
    product_sold: str | None = None  # the code column that is each line's product, no header saying so
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (table, key) it names one-to-one
    needed: dict = field(default_factory=dict)  # column -> the row's required fact only it could fill
    # column -> the order key it is constant within, over lines that vary within it: the order's (a subtotal)
    order_constant: dict[str, str] = field(default_factory=dict)
    # Rows of another kind to leave out (options.skip_rows): a statement's balance and total lines.
    skip_rows: dict | None = None

    def as_json(self) -> dict:
        return {
            "grain_table": self.grain_table,
            "grain_reason": self.grain_reason,
            "keys": self.keys,
            "owner": self.owner,
            "tables": self.tables,
            "line_key": list(self.line_key) if self.line_key else None,
            "not_keys": self.not_keys,
            "item_key": self.item_key,
        }


def _entity(evidence: dict) -> tuple[str | None, float, bool]:
    """(table a key column identifies, score, whether the header calls it that table's own id), from
    its header evidence; (None, 0, False) when the header names no entity or several equally."""
    per_table: dict[str, tuple[float, bool]] = {}
    for target, ev in evidence.items():
        col = TABLES_BY_NAME[target.table].column(target.column)
        if target.column == "external_id":
            table, own = target.table, True
        elif col.references:
            table, own = col.references, False
        else:
            continue
        if ev.score > per_table.get(table, (0.0, False))[0]:
            per_table[table] = (ev.score, own)
    ranked = sorted(per_table.items(), key=lambda t: -t[1][0])
    if not ranked or ranked[0][1][0] < ENTITY_EVIDENCE:
        return None, 0.0, False
    if len(ranked) > 1 and ranked[0][1][0] - ranked[1][1][0] < ENTITY_MARGIN:
        return None, 0.0, False
    table, (score, own) = ranked[0]
    return table, score, own


def _best_table_score(evidence: dict, table: str) -> float:
    return max((ev.score for t, ev in evidence.items() if t.table == table), default=0.0)


def read_structure(columns: list[dict], grain: dict | None, scored: dict[str, dict]) -> Structure:
    """The tables a file feeds and who owns each column, from its grain (profiling.grain) and the
    header evidence per column. An empty Structure when the file shows no usable key."""
    s = Structure()
    if not grain or not grain.get("keys"):
        return s
    rows = grain["rows"]
    keys = grain["keys"]
    entity_of: dict[str, tuple[str, float, bool]] = {}
    kinds = {c["name"]: c for c in columns}
    for name in keys:
        table, score, own = _entity(scored.get(name, {}))
        if table in _DOCUMENTS and _worded(kinds.get(name) or {}):
            # Titles of several words ("For Those About To Rock") name things; no order or line is numbered so.
            continue
        if table:
            entity_of[name] = (table, score, own)
    # One key per entity: a column unique per row first, then one the header calls the entity's own id
    # ("Customer ID" over "Customer Name"), then the strongest evidence.
    # ... unless another column's header names the entity far more clearly ("order_id" beside a unique
    # "order_details_id": the details' own id is the line's, the order's key is the one called so).
    ranked = sorted(entity_of.items(), key=lambda e: (not keys[e[0]]["unique"], not e[1][2], -e[1][1]))
    for name, (table, score, _own) in ranked:
        if table in s.keys:
            continue
        clearer = [n for n, (t, sc, _) in ranked if t == table and sc - score >= CLEARER]
        name = max(clearer, key=lambda n: entity_of[n][1]) if clearer else name
        s.keys[table] = name
        s.key_of[name] = table
    row_key = grain.get("row_key") or []
    s.unique = {k: bool(ev["unique"] and ev["nonnull"] == rows) for k, ev in keys.items()}
    # Unique where set, on nearly every row (a Shopify SKU, blank on a product's extra image rows).
    s.unique_where_set = {k: bool(ev["unique"] and ev["nonnull"] >= NEARLY_ALL * rows) for k, ev in keys.items()}
    # Columns the grain did not test as keys (one value on every row, amounts, dates): unique or not by the profile.
    for c in columns:
        if c["name"] not in keys and rows >= 2:
            nonnull = rows - (c.get("nulls") or 0)
            s.unique_where_set[c["name"]] = bool(c.get("unique") and nonnull >= NEARLY_ALL * rows)
    for name, (table, score, own_id) in entity_of.items():
        if own_id and score >= OWN_ID and s.unique[name]:
            s.row_ids.setdefault(table, name)
    _own_id_beside_references(s, columns)
    # A row's number is a number or a code; a first unique column of words (Bills, Salary; an address) labels
    # or names the rows: they then have no number, and a later unique column (a postal code) is none either.
    first = next((k for k, ev in keys.items() if ev["unique"] and ev["nonnull"] == rows and k not in s.key_of), None)
    index = first and writer_index(kinds.get(first) or {})  # pandas' 0, 1, 2 … numbers no row of the business
    s.row_number = first if first and not index and _numbered(kinds.get(first) or {}) else None
    order_key = s.keys.get(ORDERS)
    document = None if order_key else _sale_document(keys, scored, s, grain.get("columns") or {})
    if not document and not order_key and s.row_number:
        document = _sale_of_one_line(s, columns, scored, grain.get("arithmetic") or {})
        if document:
            s.keys[document[0]] = s.row_number
    if document:
        # The document's number is the sale's key: its rows are the sale's lines (orders + order lines).
        table, order_key = document
        del s.keys[table]
        s.keys[ORDERS], s.key_of[order_key] = order_key, ORDERS
        s.sale_document = (order_key, table)
    if order_key and _below_order(keys, scored, s, order_key):
        _line_level(s, columns, keys, scored, order_key, row_key)
        if s.grain_table == LINES and PRODUCTS not in s.keys:
            _product_sold(s, columns, keys, scored, order_key)
        s.tables = [s.grain_table] + [t for t in s.keys if t != s.grain_table]
    _names_of_keys(s, columns, keys, scored)
    return s


def _own_id_beside_references(s: Structure, columns) -> None:
    """A bare "id" unique on every row is the rows' own key: an entity's id beside it ("order_id", unique
    because each order has one such row) refers to the entity each row belongs to, so it does not say the rows
    are that entity's (a transaction per order is a payment, not the order)."""
    own = [c["name"] for c in columns if normalize_header(c["name"]) in GENERIC_KEYS and s.unique.get(c["name"])]
    if own:
        s.row_ids = {t: n for t, n in s.row_ids.items() if normalize_header(n) in GENERIC_KEYS}


PRODUCTS = "canonical_products"
MIN_PRODUCTS = 10  # distinct codes a column needs to be a catalogue's rather than a category's
CLAIMED = 0.75  # header evidence that gives a column to another of the lines' or orders' columns


def _product_sold(s: Structure, columns, keys, scored, order_key: str) -> None:
    """The product of each line when no header names it: the one code column (no spaces, many values) that
    varies within the order, repeats across orders, and that no header evidence gives to another column of
    the line or of its order (a quantity, a price, a customer)."""
    kinds = {c["name"]: c for c in columns}
    order = keys[order_key]
    constant = set(order["determines"]) | set(order.get("nearly") or {})
    referents = {ORDERS, *TABLES_BY_NAME[LINES].references.values(), *TABLES_BY_NAME[ORDERS].references.values()}
    candidates = []
    for name, ev in keys.items():
        column = kinds.get(name) or {}
        if (
            name == order_key
            or name in constant
            or ev["unique"]
            or not _supported(ev)
            or ev["distinct"] < MIN_PRODUCTS
            or s.key_of.get(name) in referents
            or (s.line_key and name == s.line_key[1])
            or not _code_like(column)
        ):
            continue
        claimed = any(
            e.score >= CLAIMED and t.table in (LINES, ORDERS) and t.column != "product_id"
            for t, e in scored.get(name, {}).items()
        )
        if not claimed:
            candidates.append(name)
    if len(candidates) == 1:
        name = candidates[0]
        s.key_of.pop(name, None)
        s.keys = {t: k for t, k in s.keys.items() if k != name}
        s.keys[PRODUCTS], s.key_of[name] = name, PRODUCTS
        s.product_sold = name


def _worded(column: dict) -> bool:
    """Values of several words (WHITE HANGING HEART T-LIGHT HOLDER), as names are."""
    values = [t["value"] for t in column.get("top", [])] or column.get("samples", [])
    return bool(values) and sum(" " in v.strip() for v in values) >= 0.5 * len(values)


def _numbered(column: dict) -> bool:
    """Numbers, or values that are mostly one token that is not a plain word (INV-0042, bbq_ckn_l, 9a1f…): what
    a row's number is written as. Plain words (Bills, Salary) label rows; words with spaces (an address) name."""
    if column.get("type") == "integer" or not column:
        return True
    values = [t["value"].strip() for t in column.get("top", [])] or [v.strip() for v in column.get("samples", [])]
    return bool(values) and sum(" " not in v and not v.isalpha() for v in values) >= 0.5 * len(values)


def _addresses(column: dict) -> bool:
    """Values that nearly all begin or end with a house number (11120 Jasper Ave NW, Rua Dr. Falcão 155):
    street addresses, which name nothing ("SET OF 3 PAPER CUPS" has its number inside: a name)."""
    values = [t["value"] for t in column.get("top", [])] or column.get("samples", [])

    def numbered(value: str) -> bool:
        words = value.replace(",", " ").split()
        return len(words) >= 2 and any(ch.isdigit() for ch in words[0] + words[-1])

    return bool(values) and sum(numbered(v) for v in values) >= 0.8 * len(values)


def _code_like(column: dict) -> bool:
    """Identifiers and codes: no spaces in the values shown (85123A, five_cheese_l, S10_1678)."""
    if column.get("type") == "identifier":
        return True
    if column.get("type") == "integer":
        # A number that names a key by its header's last word ("TrackId", "item_no"), not a count.
        return normalize_header(column.get("name", "")).split()[-1:] in (["id"], ["key"], ["code"], ["no"])
    values = [t["value"] for t in column.get("top", [])] or column.get("samples", [])
    return column.get("type") in ("text", "category") and bool(values) and not any(" " in v.strip() for v in values)


NAMES = 0.8  # a text column one-to-one with an entity's key: that entity's name


def _names_of_keys(s: Structure, columns, keys, scored) -> None:
    """A worded column that goes one-to-one with an entity's key (one description per stock code and one
    stock code per description, but for a few) names that entity when no header gives it a name."""
    kinds = {c["name"]: c for c in columns}
    for table, key in s.keys.items():
        spec = TABLES_BY_NAME[table]
        if "name" not in spec.column_names or key not in keys:
            continue
        target = Target(table, "name")
        if any(ev.score >= CLAIMED for n, e in scored.items() for t, ev in e.items() if t == target and n != key):
            continue
        ev = keys[key]
        both = []
        for name in set(ev["determines"]) | set(ev.get("nearly") or {}):
            back = keys.get(name)
            column = kinds.get(name) or {}
            if (
                back is None
                or name in s.key_of
                or column.get("type") not in ("text", "free_text", "category")
                or not _worded(column)
                or _addresses(column)
                or (key not in back["determines"] and key not in (back.get("nearly") or {}))
            ):
                continue
            both.append(name)
        if len(both) == 1:
            s.names[both[0]] = (table, key)


def own(s: Structure, columns: list[dict], grain: dict, selected: list[str], scored: dict | None = None) -> None:
    """Who owns each column among the `selected` tables (the first is the row's), and which keys are
    not earned at their table's grain (in place)."""
    if not selected or not grain or not grain.get("keys"):
        return
    scored = scored or {}
    keys = dict(grain["keys"])
    s.owner, s.owner_reason, s.not_keys, s.item_key, s.varies_within = {}, {}, {}, {}, {}
    s.grain_table = s.grain_table or selected[0]
    s.keys = {t: k for t, k in s.keys.items() if t in selected or (t == ORDERS and s.grain_table in _BELOW_ORDER)}
    constant = _constant_key(s.grain_table, columns, grain, scored) if s.grain_table not in s.keys else None
    if constant:
        name, evidence = constant
        keys[name] = evidence
        s.keys[s.grain_table] = name
        s.unique[name] = False
    s.key_of = {k: t for t, k in s.keys.items()}
    s.key_evidence = keys
    _owners(s, columns, keys, scored)
    _earned_keys(s, keys, grain["rows"], columns, scored)


SALE_LINE = 0.75  # header evidence for a line's quantity and its price or total


def _sale_document(keys, scored, s: Structure, stats: dict) -> tuple[str, str] | None:
    """(table, key) when a document's number (an invoice's, a receipt's) repeats while each row carries a
    product's quantity and its price or line total, and nothing constant within the number is the document's
    own total: the rows are the lines of a sale, and the document number is the sale's (the order's) key.
    An invoice printed over its items with its total on each row stays an invoice (its items' values are
    none of its facts)."""
    for table, key in s.keys.items():
        if table in (ORDERS, LINES) or not TABLES_BY_NAME[table].references.get("customer_id"):
            continue
        ev = keys[key]
        if not ev["unique"] and not _supported(ev):
            continue
        # Unique (one line per document: a till receipt per row), every column is the row's; else the columns
        # that vary within the number are the lines'.
        constant = set() if ev["unique"] else set(ev["determines"]) | set(ev.get("nearly") or {})
        # A column with one value in the whole file (a quantity of 1 on every line) is constant within anything.
        single = {n for n in constant if (stats.get(n) or {}).get("distinct", 2) <= 1}
        # A line's fact varies within the document somewhere: a unit price differing within 5% of the invoices
        # (0.99 or 1.99 per track) is the lines', not the document's ("nearly" constant counts only as its total).
        strict = set() if ev["unique"] else set(ev["determines"])
        varying = [n for n in scored if n != key and (n not in strict or n in single)]

        def line(column: str, names) -> bool:
            return any(_best_column_score(scored.get(n, {}), LINES, column) >= SALE_LINE for n in names)

        own_total = any(
            ev_.score >= SALE_LINE
            for n in constant
            for t, ev_ in scored.get(n, {}).items()
            if t.table == table and t.column == "amount"
        )
        if (
            line("quantity", varying)
            and (line("unit_price", varying) or line("amount", varying))
            and not own_total
            and not _document_facts(table, key, constant or set(scored), scored)
        ):
            return table, key
    return None


ROW_NUMBER_KEY = 0.8  # the rows' own number keying a sale of one line (unique, and the header says an id)


def _sale_of_one_line(s: Structure, columns, scored, arithmetic: dict) -> tuple[str, str] | None:
    """(table, key) when the rows' own number (a code unique on every row that the header gives to no entity:
    `trans id`) stands beside a date, a quantity and a price, and some column is their product (the line's total,
    row by row): each row is a sale of one line, the number its key. A catalogue's stock and price make no
    total. The table is the document its header speaks for most (it is an order either way)."""
    key = s.row_number
    others = [n for n in scored if n != key]

    def line(column: str) -> list[str]:
        return [n for n in others if _best_column_score(scored.get(n, {}), LINES, column) >= SALE_LINE]

    dated = [c["name"] for c in columns if c.get("type") in ("date", "datetime") and c["name"] != key]
    quantities, prices = line("quantity"), line("unit_price")
    totalled = any(
        a in quantities and b in prices or b in quantities and a in prices for _, a, b in arithmetic.get("products", [])
    )
    if not (dated and totalled):
        return None
    s.sale_date = dated[0] if len(dated) == 1 else None
    documents = [
        t for t in TABLES_BY_NAME if t not in (ORDERS, LINES) and TABLES_BY_NAME[t].references.get("customer_id")
    ]
    named = {t: _best_column_score(scored.get(key, {}), t, "external_id") for t in documents}
    table = max(named, key=lambda t: named[t], default=None)
    return (table, key) if table and named[table] > 0 else None


DOCUMENT_MARGIN = 0.1  # a fact the header gives to the document's table clearly more than to an order


def _document_facts(table: str, key: str, constant, scored) -> list[str]:
    """Columns constant within the document's number that only that kind of document has (an invoice's
    status or paid date, by header evidence clearly ahead of any order column); its own date does not count."""
    spec = TABLES_BY_NAME[table]
    event = next((c.name for c in spec.columns if c.required and c.type in ("date", "timestamp")), None)
    facts = []
    for name in constant:
        evidence = scored.get(name, {})
        mine = max(
            (
                e.score
                for t, e in evidence.items()
                if t.table == table and t.column not in ("external_id", event) and not spec.column(t.column).references
            ),
            default=0.0,
        )
        theirs = max((e.score for t, e in evidence.items() if t.table == ORDERS), default=0.0)
        if name != key and mine >= HOLDS and mine - theirs >= DOCUMENT_MARGIN:
            facts.append(name)
    return facts


def _below_order(keys, scored, s: Structure, order_key: str) -> bool:
    """Whether the rows are below the order: its key repeats and still determines some of the order's
    columns (a key that repeats with everything varying is no key at all), or it is unique but each row
    carries a product and a quantity (one line per order)."""
    ev = keys[order_key]
    quantity = any(_best_column_score(scored.get(n, {}), LINES, "quantity") >= 0.75 for n in scored)
    if not ev["unique"]:
        # A key that repeats with everything varying is no key at all, unless its header says it is the
        # order's outright and the rows carry quantities: an order-items file whose orders are elsewhere.
        named = _best_table_score(scored.get(order_key, {}), ORDERS) >= OWN_ID or (
            s.sale_document is not None and s.sale_document[0] == order_key
        )
        return bool(ev["determines"] or ev.get("nearly")) or (named and quantity and _supported(ev))
    product_key = s.keys.get("canonical_products")
    return bool(product_key) and not keys[product_key]["unique"] and quantity


def _best_column_score(evidence: dict, table: str, column: str) -> float:
    return max((ev.score for t, ev in evidence.items() if t.table == table and t.column == column), default=0.0)


def _line_level(s: Structure, columns, keys, scored, order_key: str, row_key: list[str]) -> None:
    """An order key that repeats: the rows are below the order (lines, payments, invoices)."""
    ev = keys[order_key]
    determined = set(ev["determines"]) | set(ev.get("nearly", {}))
    varying = [c["name"] for c in columns if c["name"] != order_key and c["name"] not in determined]
    # Only clear evidence votes: "contains 'id'" fits every table's key equally and says nothing.
    votes = {
        t: sum(sc for n in varying if (sc := _best_table_score(scored.get(n, {}), t)) >= ENTITY_EVIDENCE)
        for t in _BELOW_ORDER
    }
    within = "within it"
    if not any(votes.values()):
        # Few orders repeat (most have one payment): what varies within those few says what the rows are.
        varying += [n for n in ev.get("nearly", {}) if n != order_key and n not in ev["determines"]]
        votes = {
            t: sum(sc for n in varying if (sc := _best_table_score(scored.get(n, {}), t)) >= ENTITY_EVIDENCE)
            for t in _BELOW_ORDER
        }
        within = "within some of its values"
    table = max(votes, key=lambda t: (votes[t], t == LINES))
    per_order = ev["nonnull"] / max(ev["distinct"], 1)
    s.grain_table = table
    shown = ", ".join(f"'{n}'" for n in varying[:4]) or "nothing else"
    s.grain_reason = (
        f"'{order_key}' repeats ({per_order:.1f} rows per value on average) while {shown} vary {within}: "
        f"one row per {row_label(table)}, below its order"
    )
    if ev["unique"]:
        s.grain_reason = (
            f"'{order_key}' is unique while each row carries a product and a quantity: one {row_label(table)} per order"
        )
    if table == LINES and s.keys.get(LINES) == order_key:
        del s.keys[LINES]
    s.keys[ORDERS] = order_key
    s.key_of[order_key] = ORDERS
    if len(row_key) == 2 and order_key in row_key:
        other = row_key[1] if row_key[0] == order_key else row_key[0]
        numbers = _numbers_lines(columns, other, ev["distinct"])
        if s.key_of.get(other) not in (None, LINES) and numbers:
            # 1, 2, 3 … within each order: the line's number, whatever entity its header names ("item_id").
            table = s.key_of.pop(other)
            del s.keys[table]
        claimed = any(e.score >= CLAIMED for e in scored.get(other, {}).values())
        if s.key_of.get(other) in (None, LINES) and (numbers or not claimed):
            s.line_key = (order_key, other)
            s.line_numbers = numbers


HOLDS = 0.45  # header evidence a table needs for a column to be its fact
HOLD_MARGIN = 0.15  # a parent's header evidence may trail the row table's by this much and still hold it
MIN_SUPPORT = 5  # rows repeating a key's values before its dependencies count as evidence


def _supported(ev: dict) -> bool:
    return not ev["unique"] and ev["nonnull"] - ev["distinct"] >= MIN_SUPPORT


def _owners(s: Structure, columns, keys, scored: dict) -> None:
    """Each non-key column to the entity whose key determines it with the fewest values; a column that
    varies within every parent key belongs to the row. No owner where the file shows no such evidence."""
    parents = {k: t for t, k in s.keys.items() if t != s.grain_table and _supported(keys[k])}
    order_key = s.keys.get(ORDERS)
    below_order = s.grain_table in _BELOW_ORDER and order_key and _supported(keys[order_key])
    if s.grain_table in _BELOW_ORDER and order_key and keys[order_key]["unique"]:
        _one_line_per_order(s, columns, scored, order_key)
    for c in columns:
        name = c["name"]
        if name in s.key_of or (s.line_key and name == s.line_key[1]) or s.owner.get(name) == ORDERS:
            continue
        # A parent owns what its key determines, if the parent has a column for it at all (a product id
        # constant within most orders is still the line's reference to its product).
        # ... and its header says so nearly as clearly as it says the row's table (a seller constant
        # within most orders of a marketplace is still each item's seller).
        own_score = _best_table_score(scored.get(name, {}), s.grain_table) if s.grain_table else 0.0
        holders = [
            (keys[k]["distinct"], k, t)
            for k, t in parents.items()
            if (name in keys[k]["determines"] or name in keys[k].get("nearly", {}))
            and _best_table_score(scored.get(name, {}), t) >= max(HOLDS, own_score - HOLD_MARGIN)
        ]
        determined = [k for k in parents if name in keys[k]["determines"] or name in keys[k].get("nearly", {})]
        needed = _only_filler(scored, name, s.grain_table) if holders else None
        if needed is not None:
            s.needed[name] = needed
        if holders and _own_event_date(s, c, columns):
            s.owner[name] = s.grain_table
            s.owner_reason[name] = (
                f"the file's only date: the {row_label(s.grain_table)}'s own date, though constant within "
                f"'{min(holders)[1]}'"
            )
        elif holders and (_fills_required(scored.get(name, {}), s.grain_table) or needed is not None):
            # The row needs it (a line's unit price), even when it is constant per product.
            s.owner[name] = s.grain_table
            row = row_label(s.grain_table)
            s.owner_reason[name] = f"the {row} needs it, though constant within '{min(holders)[1]}'"
        elif holders:
            _, k, t = min(holders)
            s.owner[name] = t
            s.owner_reason[name] = f"constant within each '{k}': a {row_label(t)} fact"
        elif below_order and (name in keys[order_key]["determines"] or name in keys[order_key].get("nearly", {})):
            # Constant within the order, which has no column for it (a ship-to city): not a fact of the
            # line, and which entity holds it is for the header to say.
            if name in keys[order_key]["determines"] and (c.get("distinct") or 0) >= 2:
                s.order_constant[name] = order_key
            continue
        elif determined and not below_order:
            continue
        elif below_order:
            s.owner[name] = s.grain_table
            s.owner_reason[name] = f"varies within '{order_key}': a {row_label(s.grain_table)} fact"
        elif parents:
            s.owner[name] = s.grain_table
            s.owner_reason[name] = f"varies within '{next(iter(parents))}': a {row_label(s.grain_table)} fact"


def _own_event_date(s: Structure, column: dict, columns) -> bool:
    """The file's only date, where the row's own table has a date for its event (a payment's day): it is the
    row's, even when all rows of one parent share it (an order's payments made the same day)."""
    if column.get("type") not in ("date", "datetime") or not s.grain_table:
        return False
    dates = [c for c in columns if c.get("type") in ("date", "datetime")]
    return len(dates) == 1 and event_date_column(s.grain_table) is not None


MAX_LINES = 200  # line numbers within one order stay below this


def _numbers_lines(columns, name: str, orders: int) -> bool:
    """Whether a column's values are the numbers 1 … n (or 0 … n-1) with n small, its first number on
    (nearly) every one of the `orders`: it counts each order's lines."""
    column = next((c for c in columns if c["name"] == name), {})
    low, high, distinct = column.get("min"), column.get("max"), column.get("distinct") or 0
    if column.get("type") != "integer" or low not in (0, 1) or not isinstance(high, int):
        return False
    first = next((t["count"] for t in column.get("top", []) if t["value"] == str(low)), 0)
    return high - low + 1 == distinct and distinct <= MAX_LINES and first >= NEARLY_ALL * orders


def _one_line_per_order(s: Structure, columns, scored: dict, order_key: str) -> None:
    """Lines whose order key is unique (one line per order in this file): every column is constant within
    the order, so the grain cannot tell the order's facts from the line's; the header decides between the
    two, and only between them (in place)."""
    for c in columns:
        name = c["name"]
        if name in s.key_of or c.get("type") == "empty":
            continue
        evidence = scored.get(name, {})
        mine, theirs = _best_table_score(evidence, s.grain_table), _best_table_score(evidence, ORDERS)
        if max(mine, theirs) < HOLDS or (
            _named_elsewhere(evidence, ORDERS) and _named_elsewhere(evidence, s.grain_table)
        ):
            continue  # its header names another table's column (a product's "StockDate"): nobody's by the grain
        table = ORDERS if theirs > mine else s.grain_table
        s.owner[name] = table
        s.owner_reason[name] = (
            f"'{order_key}' is unique here (one {row_label(s.grain_table)} per order): "
            f"a {row_label(table)} fact by its header"
        )


def _constant_key(table: str, columns, grain: dict, scored: dict) -> tuple[str, dict] | None:
    """The column the header calls `table`'s id when it holds one value on every row (one invoice
    printed over several item lines): a key of one group, which determines exactly the other constant
    columns. None when there is no such column."""
    rows = grain.get("rows") or 0
    stats = grain.get("columns") or {}
    if rows < 2:
        return None
    target_score = {
        c["name"]: max(
            (ev.score for t, ev in scored.get(c["name"], {}).items() if t.table == table and t.column == "external_id"),
            default=0.0,
        )
        for c in columns
    }
    name = max(target_score, key=lambda n: target_score[n], default=None)
    if name is None or target_score[name] < ENTITY_EVIDENCE:
        return None
    st = stats.get(name) or {}
    if st.get("distinct") != 1 or st.get("nonnull") != rows:
        return None
    determines = [
        c["name"] for c in columns if c["name"] != name and (stats.get(c["name"]) or {}).get("distinct", 2) <= 1
    ]
    return name, {
        "column": name,
        "distinct": 1,
        "nonnull": rows,
        "unique": False,
        "determines": determines,
        "nearly": {},
    }


def _fills_required(evidence: dict, table: str) -> bool:
    """Whether the column's best evidence is for a required, non-key column of `table` (a line's unit price
    or quantity) that no parent could hold for it."""
    top = max((e.score for e in evidence.values()), default=0.0)
    for ev in evidence.values():
        spec = TABLES_BY_NAME[ev.target.table].column(ev.target.column)
        if (
            ev.target.table == table
            and ev.score >= max(HOLDS, top - 0.05)
            and spec.required
            and not spec.references
            and spec.name != "external_id"
        ):
            return True
    return False


def _only_filler(scored: dict, name: str, table: str):
    """The required fact of `table` that only `name` has evidence for (a line's unit price in order items that
    print no line total): the row cannot load without it, whatever parent it describes too. None if none."""
    for ev in scored.get(name, {}).values():
        spec = TABLES_BY_NAME[ev.target.table].column(ev.target.column)
        if ev.target.table != table or ev.score < HOLDS or not spec.required or spec.references:
            continue
        if spec.name == "external_id":
            continue
        fills = {spec.name, *spec.filled_by}
        if not any(
            e.target.table == table and e.target.column in fills and e.score >= HOLDS
            for other, evidence in scored.items()
            if other != name
            for e in evidence.values()
        ):
            return ev.target
    return None


def _earned_keys(s: Structure, keys, rows: int, columns=(), scored: dict | None = None) -> None:
    """Only keys that are unique at their table's grain, or repeat with identical parent values, stay.
    The row's table keeps a repeating key that determines some of its own facts (an invoice number on
    each item line, with the invoice's date and customer): its rows are items of that table, and what
    varies within the key (a line total) is none of the table's facts."""
    scored = scored or {}
    for table, k in list(s.keys.items()):
        ev = keys[k]
        if table == s.grain_table and not ev["unique"]:
            facts = [
                c["name"]
                for c in columns
                if c["name"] != k
                and c["name"] not in s.key_of
                and _best_table_score(scored.get(c["name"], {}), table) >= HOLDS
                and c.get("type") != "empty"
            ]
            constant = [n for n in facts if n in ev["determines"]]
            if constant and table != LINES:
                s.item_key[table] = k
                for c in columns:
                    n = c["name"]
                    if (
                        n != k
                        and n not in ev["determines"]
                        and n not in ev.get("nearly", {})
                        and c.get("type") != "empty"
                    ):
                        s.varies_within[n] = k
                continue
            s.not_keys[k] = (
                f"'{k}' repeats ({ev['distinct']} values on {ev['nonnull']} rows): not unique per "
                f"{row_label(table)}, so it cannot be its key"
            )
            del s.keys[table]
            continue
        own = [n for n, t in s.owner.items() if t == table]
        broken = [n for n in own if n not in ev["determines"] and n not in ev.get("nearly", {}) and not ev["unique"]]
        if broken:
            s.not_keys[k] = f"'{k}' repeats with different values of {', '.join(broken[:3])}"


def row_label(table: str) -> str:
    return {
        "canonical_order_lines": "order line",
        "canonical_orders": "order",
        "canonical_customers": "customer",
        "canonical_products": "product",
        "canonical_employees": "employee",
        "canonical_suppliers": "supplier",
        "canonical_invoices": "invoice",
        "canonical_payments": "payment",
        "canonical_expenses": "expense",
        "canonical_inventory": "stock count",
    }.get(table, table)


PRODUCT_SOLD = 0.8  # evidence for the code each line sold: its product


class _NoEvidence:
    score = 0.0


_NONE = _NoEvidence()
OWNED = 1.0  # ownership says where a column may go, not what it is: no boost
VARIES_WITHIN = 0.2  # a column that differs within one key value is not that key's fact (a line total of an invoice)
FOREIGN = 0.3  # evidence for another table's columns, for a column the grain gives to one table
FOREIGN_KEY = 0.5  # ... for a key column: what else its header may mean
NEEDED = 0.8  # a required fact of the row's table that only this column could fill


def structural_evidence(scored: dict[str, dict], s: Structure, evidence_cls) -> None:
    """Evidence the grain gives where no header does (in place), before the tables are chosen: a document
    number keying a sale's lines is the order's key; a code each line sold is its product; a worded column
    one-to-one with a key is that entity's name."""
    if s.sale_document:
        key, table = s.sale_document
        named = max((ev.score for t, ev in scored[key].items() if t.table == table), default=0.0)
        if key == s.row_number and s.unique.get(key):
            # The rows' own number, unique on every row, keys each row's sale: as earned as a row key.
            named = max(named, ROW_NUMBER_KEY)
        how = "identifies a sale of one line" if s.unique.get(key) else "repeats over the lines of one sale"
        number = "the rows' own number" if key == s.row_number else f"the {row_label(table)} number"
        why = f"{number} {how}: {s.grain_reason}"
        for target in (Target(ORDERS, "external_id"), Target(LINES, "order_id")):
            if target not in scored[key] or scored[key][target].score < named:
                scored[key][target] = evidence_cls(target, named, why)
    if s.sale_date:
        target = Target(ORDERS, "order_date")
        current = scored[s.sale_date].get(target, _NONE)
        if current.score < ONLY_DATE:
            header = current.reason or "no header word"
            why = f"the only date of rows that are each a sale: when the sale was made ({header})"
            scored[s.sale_date][target] = evidence_cls(target, ONLY_DATE, why)
    if s.product_sold:
        name = s.product_sold
        why = f"a code that varies within '{s.keys[ORDERS]}' and repeats across orders: what each line sold"
        for target in (Target(LINES, "product_id"), Target(PRODUCTS, "external_id")):
            if target not in scored[name] or scored[name][target].score < PRODUCT_SOLD:
                scored[name][target] = evidence_cls(target, PRODUCT_SOLD, why)
    for name, (table, key) in s.names.items():
        target = Target(table, "name")
        why = f"one value per '{key}' and one '{key}' per value: the {row_label(table)}'s name"
        scored[name][target] = evidence_cls(target, max(NAMES, scored[name].get(target, _NONE).score), why)


def apply_structure(scored: dict[str, dict], s: Structure, evidence_cls) -> None:
    """Weigh each column's header evidence by what the grain says it is (in place)."""
    for name, evidence in scored.items():
        table = s.owner.get(name)
        if s.line_key and s.line_numbers and name == s.line_key[1]:
            # 1, 2, 3 … within each order: it numbers the lines (part of the line's key), it names nothing.
            for target, ev in list(evidence.items()):
                why = f"'{name}' numbers the lines within each '{s.line_key[0]}'"
                evidence[target] = evidence_cls(target, ev.score * FOREIGN, f"{ev.reason}; {why}")
            continue
        for target, ev in list(evidence.items()):
            factor = 1.0
            if name in s.key_of:
                key_table = s.key_of[name]
                is_key = target.column == "external_id" and target.table == key_table
                is_ref = TABLES_BY_NAME[target.table].column(target.column).references == key_table
                # A names-only entity is keyed by its name: the key column is also its name.
                looked_up = target.table == key_table and target.column in TABLES_BY_NAME[key_table].lookup_columns
                factor = OWNED if is_key or is_ref or looked_up else FOREIGN_KEY
                if is_key and name in s.not_keys:
                    factor = 0.0
            elif table:
                factor = OWNED if target.table == table else FOREIGN
            elif _contradicted(s, name, target.table):
                # "City" differs between the orders of one customer: it is not the customer's city.
                factor = FOREIGN
            if name in s.varies_within and target.table == s.grain_table and target.column != "external_id":
                factor = min(factor, VARIES_WITHIN)
            order_constant = name in s.order_constant and target.table == s.grain_table == LINES
            if order_constant and not TABLES_BY_NAME[LINES].column(target.column).references:
                # One value per order while the lines under it differ (a Shopify "Subtotal"): the order's, no line's.
                factor = min(factor, FOREIGN)
            why = _why(s, name)
            if order_constant and factor == FOREIGN:
                why = f"one value within each '{s.order_constant[name]}' while its lines differ: the order's, no line's"
            contradicted = not table and name not in s.key_of and _contradicted(s, name, target.table)
            if contradicted:
                key = s.keys[target.table]
                why = f"differs between rows of one '{key}': not a {row_label(target.table)} fact"
            if factor != 1.0 or why:
                told = factor >= OWNED or name in s.varies_within or contradicted or order_constant
                reason = f"{ev.reason}; {why}" if told and why else ev.reason
                evidence[target] = evidence_cls(target, min(ev.score * factor, 0.99), reason)
            if s.needed.get(name) == target and factor >= OWNED:
                # No other column could fill it: the rows need it whatever its words lean to (a "list price").
                ev = evidence[target]
                why = f"the only column that could fill the {row_label(target.table)}'s {target.column}"
                evidence[target] = evidence_cls(target, max(ev.score, NEEDED), f"{ev.reason}; {why}")
        for target in [t for t in evidence if t.column == "external_id"]:
            if name in s.not_keys or not _may_key(s, name, target.table):
                evidence.pop(target)


def _contradicted(s: Structure, name: str, table: str) -> bool:
    """Whether a parent entity's key, repeating with support in the file, takes several values of the
    column (so the column cannot be one of that entity's facts)."""
    if table == s.grain_table or table not in s.keys:
        return False
    key = s.keys[table]
    ev = s.key_evidence.get(key)
    if not ev or ev["unique"] or not _supported(ev):
        return False
    return name not in ev["determines"] and name not in ev.get("nearly", {})


def _why(s: Structure, name: str) -> str:
    """The structural reason a column goes where it goes, for its proposal's reason."""
    if name in s.varies_within:
        key = s.varies_within[name]
        return f"varies within '{key}': a value of each item, not of the {row_label(s.grain_table)}"
    if s.item_key.get(s.key_of.get(name, "")) == name:
        return item_reason(s)
    if name in s.owner_reason:
        return s.owner_reason[name]
    if s.key_of.get(name) == ORDERS and s.grain_table in _BELOW_ORDER:
        return s.grain_reason
    return ""


def item_reason(s: Structure) -> str:
    table = s.grain_table
    key = s.item_key.get(table)
    if not key:
        return ""
    return (
        f"'{key}' repeats with the same {row_label(table)} facts on each row while other columns vary: "
        f"one row per item of a {row_label(table)}, its key"
    )


def _may_key(s: Structure, name: str, table: str) -> bool:
    """Whether `name` may be `table`'s external_id: the row's table takes only a column unique per
    row (or its key repeated on the items below it); a parent only its own key."""
    if table == s.grain_table:
        return s.unique_where_set.get(name, True) or s.item_key.get(table) == name
    if table in s.keys:
        return s.keys[table] == name
    return True


EVENT_DATE = 0.85  # evidence for the event's own date when the dates' order says which it is


def event_dates(scored: dict[str, dict], selected: list[str], date_order: dict, evidence_cls) -> None:
    """The date a row's event happened is the earliest of its dates: an order is placed before it is
    approved, shipped or delivered; an invoice is issued before it is due (in place)."""
    for table in selected:
        spec = TABLES_BY_NAME[table]
        event = event_date_column(table)
        if event is None:
            continue
        target = next((t for ev in scored.values() for t in ev if t.table == table and t.column == event.name), None)
        # The dates of this table's rows: a date whose header gives it to one of the table's columns or names
        # the table's entity ("order_purchase_timestamp" in an orders file).
        words = set(vocabulary().entity_words[table])
        dated = [n for n in scored if n in date_order or any(n in later for later in date_order.values())]
        candidates = [
            n
            for n in dated
            if (
                any(t.table == table and t.column in spec.column_names for t in scored[n])
                or words & set(normalize_header(n).split())
            )
            and any(TABLES_BY_NAME[t.table].column(t.column).type in ("date", "timestamp") for t in scored[n])
        ]
        if not candidates or target is None:
            continue
        # The one date the header gives the table is measured against the file's other dates (an invoice's
        # "Created Time" before its "Modified Time"), as the calibration's reading of the values does.
        steps = candidates if len(candidates) >= 2 else dated
        if len(steps) < 2:
            continue
        # A date whose header belongs clearly to another table (a product's "StockDate") is not a step of this one,
        # nor another fact's date ("exchange_rate_date" beside "exchange_rate": the rate's, not the row's).
        steps = [n for n in steps if not _named_elsewhere(scored[n], table) and not _dates_another(n, scored, target)]
        # A plan or a limit ("scheduled_delivery_start_date") has not happened: the event precedes it or is unknown.
        first = [
            n
            for n in candidates
            if n in steps
            and not _planned(n, scored, target)
            and all(o in date_order.get(n, []) for o in steps if o != n)
        ]
        if len(first) != 1:
            continue
        earliest = first[0]
        if not _names_event(scored[earliest], target) and any(_names_event(scored[o], target) for o in steps):
            # "ProcuredDate" before "OrderDate", "provider_exchange_rate_date" before "invoice_date": the order of
            # the dates decides between headers none of which names the event, never against the one that does;
            # the earlier date is a step before the event (stock procured, a rate fixed).
            continue
        label = row_label(table)
        others = [o for o in steps if o != earliest]
        later = others or date_order.get(earliest, [])
        why = f"it comes before {', '.join(repr(o) for o in later[:3])} on every row: the {label}'s own date"
        current = scored[earliest].get(target)
        score = max(current.score if current else 0.0, EVENT_DATE)
        scored[earliest][target] = evidence_cls(target, score, (current.reason + "; " if current else "") + why)
        for other in others:
            ev = scored[other].get(target)
            if ev is not None:
                scored[other][target] = evidence_cls(
                    target, ev.score * 0.5, f"{ev.reason}; it comes after '{earliest}': a later step"
                )


NAMED_EVENT = 0.9  # header evidence with which a date column names the table's event date outright


def _names_event(evidence: dict, target: Target) -> bool:
    ev = evidence.get(target)
    return ev is not None and ev.score >= NAMED_EVENT


def _planned(name: str, scored: dict, target: Target) -> bool:
    """A header making the date a plan or a limit ("scheduled_delivery_start_date"), unless it names the event."""
    words = set(normalize_header(name).split())
    return bool(words & vocabulary().plan_words) and not _names_event(scored[name], target)


def _dates_another(name: str, scored: dict, target: Target) -> bool:
    """Whether the words before a date header's last word are another column's header ("exchange_rate_date"
    beside "exchange_rate"): the last word says it is a date, the words before whose; that column's fact is what
    it dates, not the row's event. "invoice_date" beside "invoice" in an invoices file dates the row itself,
    and a header that names the event outright dates it."""
    words = normalize_header(name).split()
    if len(words) < 2 or _names_event(scored[name], target):
        return False
    owner, entity = words[:-1], set(vocabulary().entity_words[target.table])
    for other in scored:
        theirs = normalize_header(other).split()
        if other != name and theirs and owner[-len(theirs) :] == theirs and not set(theirs) <= entity:
            return True
    return False


def _named_elsewhere(evidence: dict, table: str) -> bool:
    """Whether the header clearly names another table's column (≥ 0.75, ahead of this table's by 0.1)."""
    mine = _best_table_score(evidence, table)
    return any(e.score >= CLAIMED and e.score - mine >= 0.1 for t, e in evidence.items() if t.table != table)


def event_date_column(table: str):
    """The date a table's rows happen on: its required date, else a document's only date (a payment's)."""
    spec = TABLES_BY_NAME[table]
    dates = [c for c in spec.columns if c.type in ("date", "timestamp")]
    required = next((c for c in dates if c.required), None)
    if required or table not in _DOCUMENTS:
        return required
    return dates[0] if len(dates) == 1 else None


ONLY_DATE = 0.85  # the file's only date, for a table whose rows need their date
ONLY_DATE_FLOOR = 0.4  # ... when its header says at least that much for the event's date


def only_date(scored: dict[str, dict], columns: list[dict], selected: list[str], evidence_cls) -> None:
    """A file with one date column (with values) for a table whose rows need a date: that date is the
    event's (a billing tracker's "Last_Created_On" is when each line was billed), unless its header
    says it is another of the table's dates (in place)."""
    if not selected:
        return
    table = selected[0]
    event = event_date_column(table)
    dated = [c["name"] for c in columns if c.get("type") in ("date", "datetime")]
    if event is None or len(dated) != 1:
        return
    name = dated[0]
    evidence = scored.setdefault(name, {})
    target = next((t for t in evidence if t.table == table and t.column == event.name), None)
    # A header that names only dates of tables the file does not feed (a payment export's "vencimiento", a due
    # date's word) names nothing this file has: the only date is still the rows' own.
    names_nothing = not evidence or (target is None and all(t.table not in selected for t in evidence))
    if names_nothing:
        # A header that names nothing ("datetime": only the values' kind) gives the column to no other fact.
        elsewhere = sorted({t.key for t in evidence})
        said = f"names only {', '.join(elsewhere[:2])}, not fed by this file" if elsewhere else "names no fact"
        target = Target(table, event.name)
        evidence[target] = evidence_cls(target, 0.0, f"header '{name}' {said}; values are dates")
    if target is None or (evidence[target].score < ONLY_DATE_FLOOR and not names_nothing):
        return
    others = [
        ev.score
        for t, ev in evidence.items()
        if t.table == table and t != target and TABLES_BY_NAME[table].column(t.column).type in ("date", "timestamp")
    ]
    current = evidence[target]
    if others and max(others) > current.score:
        return
    if current.score < ONLY_DATE:
        why = f"the file's only date column: the {row_label(table)}'s own date"
        evidence[target] = evidence_cls(target, ONLY_DATE, f"{current.reason}; {why}")


ONLY_MONEY = 0.85  # the file's only money column, under a header naming nothing, for a table that needs an amount


def money_columns(columns: list[dict]) -> list[str]:
    """Columns whose values are money: decimals in whole cents (not rates or computed figures)."""
    return [c["name"] for c in columns if c.get("type") == "decimal" and _money_shaped(c)]


def only_money(scored: dict[str, dict], columns: list[dict], tables: list[str], evidence_cls) -> None:
    """A file with one money column, whose header names no fact ("money"), for the tables whose rows carry an
    amount: that column is the amount, as the only date is the date (in place). Given for every candidate table
    before the table is chosen, it lets a file whose only amount is under a foreign word be read as the table
    it can fill (a payment's "Bruto")."""
    money = money_columns(columns)
    if len(money) != 1 or any(t.column != "amount" or t.table not in tables for t in scored.get(money[0], {})):
        return
    if scored.get(money[0]) and not all(
        ev.reason.startswith(f"header '{money[0]}' names no fact") for ev in scored[money[0]].values()
    ):
        return
    for table in tables:
        spec = TABLES_BY_NAME[table]
        if not any(c.name == "amount" and c.type == "money" and c.required for c in spec.columns):
            continue
        target = Target(table, "amount")
        why = f"header '{money[0]}' names no fact; the file's only money column: the {row_label(table)}'s amount"
        scored.setdefault(money[0], {})[target] = evidence_cls(target, ONLY_MONEY, why)


KEYED_SHARE = 0.8  # of the best table's header total a row-id table needs to be taken as the file's


def keyed_table(s: Structure, totals: dict[str, float]) -> str | None:
    """The table whose own id is unique on every row, when the rest of the file speaks for it too
    (a product list keyed by product_id with a photo count is products, not order lines)."""
    best = max(totals.values(), default=0.0)
    fits = [(totals.get(t, 0.0), t) for t in s.row_ids if totals.get(t, 0.0) >= KEYED_SHARE * best]
    return max(fits)[1] if fits else None


GROUPING = 0.5  # a column with fewer distinct values than this share of its entity's keys groups them
GROUPED = 0.75  # evidence for the category of an entity whose rows such a column groups
DESCRIBING = 0.55  # evidence for an entity's name or e-mail that makes a column describe it
PARENT_DATE = 0.4  # a parent's date the grain does not give to that parent: more likely the row's own


def values_decide(
    scored: dict[str, dict], columns: list[dict], grain: dict, s: Structure, selected: list[str], evidence_cls
):
    """What the values say against header evidence, file-wide (in place):
    - a column holding one value on every row cannot identify an entity whose names differ from row to
      row (an account number constant over invoices to four customers);
    - a date goes to a parent entity only when the grain shows it constant within that parent's key: an
      invoice file's "created" date is the invoice's, not its customer's."""
    rows = (grain or {}).get("rows") or 0
    stats = (grain or {}).get("columns") or {}
    distinct = {c["name"]: (stats.get(c["name"]) or {}).get("distinct", c.get("distinct", 0)) for c in columns}
    primary = selected[0] if selected else None
    kinds = {c["name"]: c.get("type") for c in columns}
    for name, evidence in scored.items():
        for target, ev in list(evidence.items()):
            key = s.keys.get(target.table)
            if (
                target.column == "name"
                and key
                and key != name
                and distinct.get(name, 0) < GROUPING * distinct.get(key, 0)
                and s.owner.get(name) == target.table
            ):
                # 7 product lines for 109 product codes: a grouping of the products, not each one's name.
                label = row_label(target.table)
                why = f"{distinct[name]} values for {distinct[key]} '{key}': a grouping of the {label}s"
                why += ", not each one's name"
                evidence[target] = evidence_cls(target, ev.score * 0.3, f"{ev.reason}; {why}")
                grouped = Target(target.table, "category")
                if kinds.get(name) == "category" and grouped.column in TABLES_BY_NAME[target.table].column_names:
                    current = evidence.get(grouped)
                    if current is None or current.score < GROUPED:
                        evidence[grouped] = evidence_cls(grouped, GROUPED, f"{why}: its category")
                continue
            spec = TABLES_BY_NAME[target.table].column(target.column)
            entity = target.table if target.column == "external_id" else spec.references
            if entity and rows >= 2 and distinct.get(name) == 1:
                varying = [
                    n
                    for n, other in scored.items()
                    if n != name
                    and distinct.get(n, 0) > 1
                    and any(
                        t.table == entity and t.column in ("name", "email") and e.score >= DESCRIBING
                        for t, e in other.items()
                    )
                ]
                if varying:
                    evidence[target] = evidence_cls(
                        target,
                        ev.score * 0.3,
                        f"{ev.reason}; one value on every row while '{varying[0]}' differs: it identifies no "
                        f"{row_label(entity)}",
                    )
                    continue
            if (
                spec.type in ("date", "timestamp")
                and not spec.required  # a parent's own event date (an order's, on its lines) is no guess
                and target.table != primary
                and target.table in selected
                and s.owner.get(name) != target.table
            ):
                evidence[target] = evidence_cls(target, ev.score * PARENT_DATE, ev.reason)
