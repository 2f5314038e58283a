"""Which canonical tables a file feeds: scored from its columns, its name and the domain hint."""

from __future__ import annotations

from canonical.schema import TABLES, TABLES_BY_NAME
from mappings.proposer.scoring import Evidence, Target, entity_owner
from mappings.proposer.structure import row_label
from mappings.proposer.text import normalize_header

SALE_LINES = 1.5  # a quantity and a unit price side by side (of a product: twice): the lines of a sale


# Tables whose rows are never priced items (quantity × price = total): a payment settles an amount, and people and
# companies have no quantities. A sale, an invoice over its items, a purchase or a stock valuation may all be.
NOT_ITEMS = frozenset({"canonical_payments", "canonical_customers", "canonical_suppliers", "canonical_employees"})
ITEMS_TABLES = frozenset(t.name for t in TABLES) - NOT_ITEMS


def table_scores(
    scored: dict[str, dict[Target, Evidence]],
    hints: list[str],
    keyed_columns: frozenset[str] = frozenset(),
    hinted_only: frozenset[str] | None = None,
) -> dict[str, float]:
    """Each table's score from the columns' evidence and the hints. `keyed_columns`: columns whose values
    are codes or numbers (a product id), not names. `hinted_only`: the tables the hints may speak for (the
    values left the others out: a file whose rows are quantity × price = total is no payment, whatever its
    name says); None: every table."""
    totals = {t.name: 0.0 for t in TABLES}
    for evidence in scored.values():
        best_per_table: dict[str, float] = {}
        for target, ev in evidence.items():
            if ev.score < 0.6:
                continue
            weight = 1.5 if target.column == "external_id" else 1.0
            best_per_table[target.table] = max(best_per_table.get(target.table, 0.0), ev.score * weight)
        for table, value in best_per_table.items():
            totals[table] += value
    # Units and a price per unit are the lines of a sale, whatever else the headers say ("transaction").
    lines = TABLES_BY_NAME["canonical_order_lines"].name
    sold = {
        t.column
        for name, evidence in scored.items()
        for t, ev in evidence.items()
        if t.table == lines
        and t.column in ("quantity", "unit_price", "product_id")
        and ev.score >= 0.6
        and (t.column != "product_id" or name in keyed_columns)
    }
    if {"quantity", "unit_price"} <= sold:
        totals[lines] += SALE_LINES * (2 if "product_id" in sold else 1)
    owner = entity_owner()
    for hint_index, hint in enumerate(hints):
        for word in normalize_header(hint).split():
            table = owner.get(word) or owner.get(word.rstrip("s"))
            if table and (hinted_only is None or table in hinted_only):
                totals[table] += 2.5 if hint_index == 0 else 1.0
    return totals


DESCRIBES = 0.55  # evidence a column needs to count as describing the entity the rows refer to


def fillable(table: str, scored, but: tuple[str, ...] = ()) -> bool:
    """Whether some column could fill each fact the table's rows need (an invoice's date and amount): a file
    without a single date is no invoice list, whatever its "id" columns suggest. `but`: facts not asked for."""
    spec = TABLES_BY_NAME[table]
    for col in spec.columns:
        if not col.required or col.computed or col.name == "external_id" or "external_id" in col.filled_by:
            continue
        if col.name in but:
            continue
        wanted = {col.name, *col.filled_by}
        if not any(
            t.table == table and t.column in wanted and ev.score >= FILLS
            for evidence in scored.values()
            for t, ev in evidence.items()
        ):
            return False
    return True


FILLS = 0.45  # evidence a column needs to count as able to fill a required fact


def select_tables(
    scored,
    totals: dict[str, float],
    hinted: str | None,
    columns_only: dict[str, float] | None = None,
    empty: frozenset[str] = frozenset(),
    measured: frozenset[str] = frozenset(),
    without_grain: list[str] | None = None,
) -> list[str]:
    # The rows' table is the best-scored one the file can fill (an empty column fills nothing); others only
    # when none can.
    with_values = {n: e for n, e in scored.items() if n not in empty}
    possible = {t: v for t, v in totals.items() if fillable(t, with_values)} or totals
    lines, orders = "canonical_order_lines", "canonical_orders"
    if (
        max(totals, key=lambda t: totals[t]) == lines
        and orders in possible
        and lines not in possible
        and fillable(lines, with_values, but=("order_id",))
        and not any(
            t == Target(orders, "amount") and ev.score >= 0.75
            for evidence in with_values.values()
            for t, ev in evidence.items()
        )
    ):
        # A count beside its price, each row dated and no total: the file speaks for sales lines first and lacks only
        # the number of their order (a catalogue has no date per row). Lines it is; a sale of one line with its own
        # total stays an order (its total is its revenue).
        possible[lines] = totals[lines]
    primary = hinted or max(possible, key=lambda t: possible[t])
    if not hinted:
        primary = _places_more(primary, possible, columns_only or totals, scored, measured)
    owner = entity_owner()
    weak = {"contact", "contacts", "account", "accounts", "company", "companies", "sales", "item", "line"}
    named = {owner[w] for name in scored for w in normalize_header(name).split() if w in owner and w not in weak}
    # Columns that clearly belong to one table: its best evidence beats every other table's by a margin.
    # "Name" or "Email" alone fit customers, suppliers and employees equally and so decide nothing.
    own: dict[str, list[str]] = {}
    # A tie between entities ("Name", "Email": a customer's, a supplier's, an employee's) goes to the one
    # entity the primary table refers to: an invoice's name and e-mail are its customer's.
    referenced = set(TABLES_BY_NAME[primary].references.values()) - {primary}
    described: dict[str, list[str]] = {}  # referenced table -> its columns the file gives (ties included)
    for evidence in scored.values():
        best_by_table: dict[str, Evidence] = {}
        for ev in evidence.values():
            if ev.target.table not in best_by_table or best_by_table[ev.target.table].score < ev.score:
                best_by_table[ev.target.table] = ev
        ranked = sorted(best_by_table.values(), key=lambda e: -e.score)
        if not ranked:
            continue
        tied = [e for e in ranked if ranked[0].score - e.score < 0.03]
        refs = [e for e in tied if e.target.table in referenced and not e.target.references]
        if len(refs) == 1 and ranked[0].score >= DESCRIBES and all(e.target.table != primary for e in tied):
            described.setdefault(refs[0].target.table, []).append(refs[0].target.column)
        if ranked[0].score < 0.75:
            continue
        if len(ranked) == 1 or ranked[0].score - ranked[1].score >= 0.03:
            own.setdefault(ranked[0].target.table, []).append(ranked[0].target.column)
        elif len(refs) == 1 and all(e.target.table != primary for e in tied):
            own.setdefault(refs[0].target.table, []).append(refs[0].target.column)
        elif ranked[0].target.table != primary:
            # A tie ("quantity": an order line's or a stock count) goes to the table the rest of the file
            # speaks for most, unless the primary table is among the tied: then it decides nothing.
            tied = [e for e in ranked if ranked[0].score - e.score < 0.03]
            if all(e.target.table != primary for e in tied):
                best = max(tied, key=lambda e: totals[e.target.table])
                if totals[best.target.table] > max(totals[e.target.table] for e in tied if e is not best) + 1.0:
                    own.setdefault(best.target.table, []).append(best.target.column)
    selected = [primary]
    # Lines need their order; a column giving the order's date makes the file write the orders too.
    if primary == "canonical_order_lines" and any(
        ev.target == Target("canonical_orders", "order_date") and ev.score >= 0.75
        for evidence in scored.values()
        for ev in evidence.values()
    ):
        selected.append("canonical_orders")
    for table in sorted(totals, key=lambda t: -totals[t]):
        if table in selected:
            continue
        cols = own.get(table, [])
        # The entity the rows refer to, described by a name or key and a second column (an e-mail).
        if table in described and len(set(described[table])) >= 2 and set(described[table]) & {"name", "external_id"}:
            cols = sorted(set(cols) | set(described[table]))
        if table == primary or len(cols) < 2:
            continue
        # A second entity needs its own key, an e-mail, or a header naming it ("Customer Name"): a bare
        # "contactName" next to a supplier's columns is the supplier's contact, not a customer.
        spec_refs = set(TABLES_BY_NAME[table].references)
        referenced = any(
            ev.target.table == table and ev.target.column in spec_refs and ev.score >= 0.75
            for evidence in scored.values()
            for ev in evidence.values()
        )
        identified = "external_id" in cols or "email" in cols or table in named or referenced
        spec = TABLES_BY_NAME[table]
        required = [c for c in spec.columns if c.required and c.name != "external_id"]
        # A referent the rows point at by its key takes its name from that key when the file has none.
        keyed = any(
            ev.target.table == primary and ev.target.references == table and ev.score >= 0.75
            for evidence in scored.values()
            for ev in evidence.values()
        )
        satisfiable = all(
            c.name in cols
            or computable(table, c.name)
            or (c.references and c.references in selected)
            or (keyed and "external_id" in c.filled_by)
            for c in required
        )
        if identified and satisfiable and _own_grain(table, primary, cols, without_grain):
            selected.append(table)
    return selected


def _own_grain(table: str, primary: str, cols: list[str], without_grain: list[str] | None) -> bool:
    """Whether a second table has a grain of its own in the file, where the primary's rows have a home for its
    facts (an invoice's amount paid, for its payments): its own key. A payment's amount on a row of invoices,
    keyed by nothing of its own, is a fact of the invoice (`without_grain`, when given, collects such tables).
    A line's quantity has no home on its order's row: the order's lines keep their table."""
    if (table, primary) not in ON_THE_ROW or "external_id" in cols:
        return True
    if without_grain is not None:
        without_grain.append(table)
    return False


# What a table's fact is on a row of another table's grain (a payment's amount on an invoice: the amount paid). A
# payment's date needs no entry: its headers ("payment date") already name the invoice's paid date.
ON_THE_ROW = {("canonical_payments", "canonical_invoices"): {"amount": "amount_paid", "currency": "currency"}}


def facts_of_the_row(scored, tables: list[str], primary: str, evidence_cls) -> None:
    """Columns of `tables` (which have no grain of their own in the file) read as the primary row's facts where
    the schema has a home for them there: a payment's amount on an invoice row is its amount paid (in place)."""
    for table in tables:
        equivalent = ON_THE_ROW.get((table, primary)) or {}
        for evidence in scored.values():
            for target, ev in list(evidence.items()):
                column = equivalent.get(target.column) if target.table == table else None
                if column is None:
                    continue
                mine = Target(primary, column)
                if mine not in evidence or evidence[mine].score < ev.score:
                    fact, row = column.replace("_", " "), row_label(primary)
                    why = f"{ev.reason}; no column keys the {row_label(table)} itself: on each {row}'s row, its {fact}"
                    evidence[mine] = evidence_cls(mine, ev.score, why)


PLACES = 0.6  # evidence with which a table has a home for a column


def _places_more(
    primary: str,
    possible: dict[str, float],
    columns_only: dict[str, float],
    scored,
    measured: frozenset[str] = frozenset(),
) -> str:
    """The file's name ("transactions": card spend, sales and payments alike) decides between tables that hold
    the same columns, never against the columns: when the table the columns alone rank first has a home for
    every column the named one places and for two more (a merchant and a spend category are an expense's; a
    payment has neither), the columns win."""

    def placed(table: str) -> set[str]:
        # Every table has a key: an id column offered as each one's key places nothing.
        return {
            n
            for n, evidence in scored.items()
            if any(t.table == table and t.column != "external_id" and ev.score >= PLACES for t, ev in evidence.items())
        }

    leader = max((t for t in possible), key=lambda t: columns_only.get(t, 0.0))
    if leader == primary:
        return primary
    mine, theirs = placed(primary), placed(leader)
    more = theirs - mine
    # One more column placed is enough when its values are money or dates (a price, a hire date): the named table
    # has no home for a measured fact of every row.
    return leader if mine <= theirs and (len(more) >= 2 or more & measured) else primary


def hinted_table(domain_hint: str | None) -> str | None:
    if not domain_hint:
        return None
    hint = domain_hint.strip().lower()
    if hint in TABLES_BY_NAME:
        return hint
    if f"canonical_{hint}" in TABLES_BY_NAME:
        return f"canonical_{hint}"
    owner = entity_owner()
    for word in normalize_header(hint).split():
        if word in owner:
            return owner[word]
    return None


def missing_required_targets(fields: list[dict]) -> list[str]:
    """Required canonical columns of the tables a mapping feeds that no field fills ("table.column")."""
    covered: dict[str, set[str]] = {}
    for f in fields:
        if f.get("canonical_table") in TABLES_BY_NAME and f.get("canonical_col"):
            covered.setdefault(f["canonical_table"], set()).add(f["canonical_col"])
    return [f"{table}.{col}" for table, cols in covered.items() for col in TABLES_BY_NAME[table].missing_required(cols)]


def computable(table: str, column: str) -> bool:
    """A required column the engine fills itself when no column feeds it (canonical.schema)."""
    return bool(TABLES_BY_NAME[table].column(column).computed)


PARENT_EVIDENCE = 0.75  # a parent's own columns must be this clear for the file to write the parent


def satisfiable(table: str, scored, structure) -> bool:
    """A parent table joins when the columns it owns fill its required columns clearly (a name, an order
    date), not merely by standing in for them: a lines file whose orders come from elsewhere references
    them and leaves their columns alone."""
    owned = [n for n, t in structure.owner.items() if t == table]

    def clear(column: str) -> bool:
        target = Target(table, column)
        return any(target in scored.get(n, {}) and scored[n][target].score >= PARENT_EVIDENCE for n in owned)

    spec = TABLES_BY_NAME[table]
    # A parent the file keys (a customer id repeating with the customer's country) takes its name from its
    # key when the file has none: it joins when the file gives at least one of its facts clearly.
    keyed = structure.keys.get(table) is not None
    required = [
        c.name
        for c in spec.columns
        if c.required and c.name != "external_id" and not c.computed and not (keyed and "external_id" in c.filled_by)
    ]
    if not required:
        return any(clear(c.name) for c in spec.columns if c.name != "external_id")
    return all(clear(name) for name in required)
