"""The mapping proposer: which canonical table.column each source column feeds, how sure, and why.

Offline and deterministic. For every (column, canonical column) pair the evidence is
  - the header: normalized (case, punctuation, camelCase, accents, units in parentheses), abbreviations
    expanded, then looked up in the synonym tables (mappings/proposer/vocabulary.py) exactly, with the
    table's entity word stripped ("customerName" in a customer file → "name"), by containment, or fuzzily
    (rapidfuzz);
  - the values, from the profile: dates for date columns, numbers for money, e-mails for email, ...
    A type that cannot fit the target scales the score down hard.
Tables: each table is scored by how well the file's columns fit it (plus the file name and the domain
hint); the best is the primary table, others join when several columns clearly belong to them and they
can be identified. Columns are then assigned one-to-one, best first, except for the combinations that
form one target (first + last name → name via `concat`) and key columns of a denormalized file that also
feed a reference (orders.customer_id from the customers' id column).
A header that users mapped before (saved FieldMappings) is proposed that way first.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from canonical.attributes import PREFIX as ATTRIBUTE_PREFIX
from canonical.schema import TABLES_BY_NAME
from mappings.proposer.assign import (
    Proposal,
    assign,
    buyer_reference,
    keys_outnumbered_by_names,
    name_concat,
    reference_duplicates,
    reference_fallback,
)
from mappings.proposer.calibration import CONTRADICT, ONE_KIND, calibrated, one_item_per_row_holds, read_signals
from mappings.proposer.ledger import apply_ledger, posting_amounts_are_not_totals, read_ledger, read_pair
from mappings.proposer.line_total import apply_line_arithmetic, discount_rates, read_line_arithmetic
from mappings.proposer.minor_units import divide_minor_units, file_evidence, with_prices_in_units
from mappings.proposer.payable import PAYABLE_TABLE, apply_payable, read_payable
from mappings.proposer.processor import PROCESSOR_TABLE, apply_processor, processor_tables, read_processor
from mappings.proposer.scoring import (
    GENERIC_KEYS,
    Evidence,
    Target,
    calibrate,
    noise_reason,
    score_columns,
    transform_for,
    unmapped_confidence,
    unmapped_reason,
)
from mappings.proposer.statement import (
    STATEMENT_TABLE,
    apply_statement,
    balance_lines,
    paid_out,
    read_marked,
    read_statement,
    sign_by_marker,
)
from mappings.proposer.stock import STOCK_TABLE, apply_stock, read_stock
from mappings.proposer.structure import (
    Structure,
    apply_structure,
    event_dates,
    keyed_table,
    money_columns,
    only_date,
    only_money,
    own,
    read_structure,
    row_label,
    structural_evidence,
    values_decide,
)
from mappings.proposer.tables import (
    ITEMS_TABLES,
    facts_of_the_row,
    fillable,
    hinted_table,
    missing_required_targets,
    satisfiable,
    select_tables,
    table_scores,
)
from mappings.proposer.text import normalize_header

ROW_KEY = 0.8  # a column unique on every row that some header evidence names the rows' key
EMPTY_CONFIDENCE = 0.6  # an empty column's proposal rests on its header alone


def _learned(user_learned: dict[str, list[dict]], name: str) -> list[dict]:
    """The targets learned for header `name` (mappings.selectors.learned_mappings; one target may be given alone)."""
    found = user_learned.get(name) or user_learned.get(normalize_header(name)) or []
    return [found] if isinstance(found, dict) else found


def propose_from_profile(
    *,
    file: str,
    profile: dict,
    dialect: dict,
    domain_hint: str | None = None,
    learned: dict | None = None,
    known_keys: dict | None = None,
    notes: list[str] | None = None,
) -> dict:
    """The contract's proposal document for a profiled file (see mapping_propose). `known_keys`:
    {column: {table: (matched, tried)}}, its values found among a canonical table's external ids
    (mappings.selectors.known_keys). A mapping learned from files of the same layout is reused only where
    it agrees with this file's own reading (`learned_conflicts`); otherwise the proposal is made afresh
    and `notes` (a list, when given) says why."""
    document = _proposal(
        file=file, profile=profile, dialect=dialect, domain_hint=domain_hint, learned=learned, known_keys=known_keys
    )[0]
    if not learned:
        return document
    fresh = _proposal(file=file, profile=profile, dialect=dialect, domain_hint=domain_hint, known_keys=known_keys)[0]
    conflicts = learned_conflicts(document["proposals"], fresh["proposals"], profile)
    if not conflicts:
        return document
    if notes is not None:
        notes.append(f"The mapping saved before for this layout was not reused: {conflicts[0]}; proposed afresh.")
    return fresh


def learned_conflicts(learned: list[dict], fresh: list[dict], profile: dict) -> list[str]:
    """Why the proposal that reuses learned fields contradicts this file's own reading (empty: it does not):
    - it leaves a required column empty that the file's own reading fills (a learned "Price → orders.amount"
      beside a fresh "Qty → order_lines.quantity": the lines would have no price);
    - it gives a parent table a column that varies within that parent's key in this file (the grain says it
      is not that entity's fact)."""
    why: list[str] = []
    own_missing = set(missing_required_targets(fresh))
    reused = [p for p in learned if p["canonical_table"] and (p.get("reason") or "").startswith(LEARNED)]
    grain = profile.get("grain") or {}
    keys = grain.get("keys") or {}
    key_of = {
        p["canonical_table"]: p["source_col"]
        for p in fresh + learned
        if p["canonical_table"] and p["canonical_col"] == "external_id" and p.get("source_col") in keys
    }
    for p in reused:
        key = key_of.get(p["canonical_table"])
        if not key or key == p["source_col"] or p["canonical_col"] == "external_id":
            continue
        ev = keys[key]
        if ev["unique"] or p["source_col"] in ev["determines"] or p["source_col"] in (ev.get("nearly") or {}):
            continue
        why.append(
            f"'{p['source_col']}' → {p['canonical_table']}.{p['canonical_col']} was learned, but '{p['source_col']}' "
            f"varies within '{key}' in this file: not a fact of {p['canonical_table'].removeprefix('canonical_')}"
        )
    for target in missing_required_targets(learned):
        if target in own_missing:
            continue
        # The learned field that took a column this file's reading gives to the emptied table.
        table = target.split(".")[0]
        fills = next((p for p in fresh if _key(p) == target and p["source_col"]), None) or next(
            (
                p
                for p in fresh
                if p["canonical_table"] == table and any(r["source_col"] == p["source_col"] for r in reused)
            ),
            None,
        )
        took = next((r for r in reused if fills and r["source_col"] == fills["source_col"]), None)
        if took:
            why.append(
                f"'{took['source_col']}' → {_key(took)} was learned, but this file's own reading needs "
                f"'{took['source_col']}' for {_key(fills)}: without it {target} would be empty"
            )
        else:
            why.append(f"with the learned fields, the required {target} would be empty, which this file fills")
    return why


LEARNED = "mapped before by users"


def _key(p: dict) -> str:
    return f"{p['canonical_table']}.{p['canonical_col']}"


def proposed_grain(*, file: str, profile: dict, dialect: dict, domain_hint: str | None = None) -> dict:
    """What one row of the profiled file is, as the proposer reads it: `file_grain`'s {"table", "reason"}."""
    _, structure, selected = _proposal(file=file, profile=profile, dialect=dialect, domain_hint=domain_hint)
    return file_grain(structure, selected)


def _proposal(
    *,
    file: str,
    profile: dict,
    dialect: dict,
    domain_hint: str | None = None,
    learned: dict | None = None,
    known_keys: dict | None = None,
    calibrate_confidence: bool = True,
) -> tuple[dict, Structure, list[str]]:
    """(the proposal document, the file's structure, the tables it feeds, the row's first).
    `calibrate_confidence=False` keeps each rule's own confidence (bench/calibration.py compares both)."""
    learned = learned or {}
    columns = profile["columns"]
    scored = score_columns(columns)
    hints = [h for h in (domain_hint, Path(file).stem) if h]
    hinted = hinted_table(domain_hint)
    grain = profile.get("grain") or {}
    rows = grain.get("rows") or profile.get("rows_profiled") or 0
    ledger = read_ledger(columns, rows)
    if ledger:
        apply_ledger(ledger, scored, grain, Evidence)
    # A processor's gross / fee / net rows are payments, whatever balance moves by their net.
    processor = None if ledger else read_processor(grain)
    statement = None if ledger or processor else read_statement(grain, read_pair(columns, rows)) or read_marked(columns)
    # An account statement's rows are its owner's spending, whatever its headers say.
    hinted = hinted or (PROCESSOR_TABLE if processor else None) or (STATEMENT_TABLE if statement else None)
    # So are documents whose only party is a supplier (bills, payments to vendors), whatever their headers say.
    if not (ledger or hinted):
        coded = frozenset(c["name"] for c in columns if c.get("type") in ("identifier", "integer"))
        payable = read_payable(scored, columns, grain, table_scores(scored, [], coded))
    else:
        payable = None
    if payable:
        apply_payable(payable, scored, Evidence)
        hinted = PAYABLE_TABLE
    # Each product once with counts of its units, no price and no order: its stock levels, not sales.
    stock = None if ledger or hinted else read_stock(scored, columns, grain)
    if stock:
        apply_stock(stock, scored, Evidence)
        hinted = STOCK_TABLE
    structure = read_structure(columns, grain, scored)
    unfilled = False
    structural_evidence(scored, structure, Evidence)
    if structure.grain_table and not hinted:
        own(structure, columns, grain, structure.tables, scored)
        selected = [t for t in structure.tables if t == structure.grain_table or satisfiable(t, scored, structure)]
    else:
        keyed = frozenset(c["name"] for c in columns if c.get("type") in ("identifier", "integer"))
        only_money(scored, columns, list(TABLES_BY_NAME), Evidence)
        # Rows whose values are quantity × price = total are priced items: the file's name ("transactions") only
        # breaks ties between the tables such items can be (a sale, an invoice, a purchase), never payments.
        sold = read_line_arithmetic(columns, with_prices_in_units(grain), scored)
        totals = table_scores(scored, hints, keyed, ITEMS_TABLES if sold and not domain_hint else None)
        columns_only = table_scores(scored, [], keyed)
        empty = frozenset(c["name"] for c in columns if c.get("type") == "empty")
        with_values = {n: e for n, e in scored.items() if n not in empty}
        # A unique own id names the file's table, unless that table's facts are there only as empty columns
        # (an invoice number beside an empty closing date and insured amount: a payment's reference).
        keyed = keyed_table(structure, totals)
        if keyed and fillable(keyed, scored) and not fillable(keyed, with_values):
            keyed = None
        measured = frozenset(c["name"] for c in columns if c.get("type") in ("decimal", "date", "datetime"))
        without_grain: list[str] = []
        selected = select_tables(scored, totals, hinted or keyed, columns_only, empty, measured, without_grain)
        if selected:
            facts_of_the_row(scored, without_grain, selected[0], Evidence)
        # No column with values could fill every fact the words' table needs: that table is a guess, unless
        # the file's reading below finds them (its only date column). An empty column fills nothing.
        unfilled = not hinted and bool(selected) and not fillable(selected[0], with_values)
    if not statement and not hinted and selected:
        statement = paid_out(scored, grain, selected[0])
        if statement:
            selected = [STATEMENT_TABLE]
    if processor:
        selected = processor_tables(selected)
    # Keys already loaded say which entity a column refers to, never what the file's rows are.
    keys_already_loaded(scored, known_keys or {}, selected)
    own(structure, columns, grain, selected, scored)
    _generic_keys_are_the_rows(scored, selected)
    if ledger:
        posting_amounts_are_not_totals(ledger, scored, selected[0] if selected else None, Evidence)
    apply_structure(scored, structure, Evidence)
    values_decide(scored, columns, grain, structure, selected, Evidence)
    line_arithmetic = read_line_arithmetic(columns, with_prices_in_units(grain), scored)
    if line_arithmetic:
        apply_line_arithmetic(line_arithmetic, scored, Evidence)
    discount_rates(columns, scored, Evidence)
    event_dates(scored, selected, grain.get("date_order") or {}, Evidence)
    only_date(scored, columns, selected, Evidence)
    only_money(scored, columns, selected[:1], Evidence)
    if statement:
        apply_statement(statement, scored, columns, grain, Evidence)
        structure.skip_rows = balance_lines(statement, grain)
        if structure.skip_rows:  # what kind of row each is: no fact of a movement
            scored[structure.skip_rows["column"]] = {}
    if processor:
        apply_processor(processor, scored, columns, grain, Evidence)
    with_values = {c["name"]: scored.get(c["name"], {}) for c in columns if c.get("type") != "empty"}
    guessed = unfilled and not fillable(selected[0], with_values)
    # A learned mapping applies where this file goes: "name" once mapped to customers says nothing
    # about a products file.
    learned = {
        header: kept
        for header in learned
        if (
            kept := [
                t for t in _learned(learned, header) if t.get("canonical_table") in selected and t.get("canonical_col")
            ]
        )
    }
    assigned, _ = assign(columns, scored, selected)
    not_keys = keys_outnumbered_by_names(assigned, columns, scored)
    specials = name_concat(columns, assigned, selected)
    by_name = {c["name"]: c for c in columns}
    proposals: list[Proposal] = []
    taken_targets: set[Target] = set()
    for column in columns:
        name = column["name"]
        # Every target the header had in the mapping it is learned from: a key built by concat keeps its order id.
        for prior in _learned(learned, name):
            target = Target(prior["canonical_table"], prior["canonical_col"])
            if target in taken_targets:
                continue
            transform = prior.get("transform")
            reason = f"{LEARNED}: '{name}' → {target.key}"
            if transform and _learned_fits(prior, by_name[name]) is None:
                transform = transform_for(by_name[name], target)
                reason += f"; its date format does not read these values, so {by_name[name].get('format')}"
            proposals.append(Proposal(name, target, 0.97, reason, transform))
            taken_targets.add(target)
    # Learned targets win over fresh evidence for the same target.
    for column in columns:
        name = column["name"]
        if _learned(learned, name):
            continue
        if name in specials:
            proposals.append(specials[name])
            if specials[name].target:
                taken_targets.add(specials[name].target)
            continue
        ev = assigned.get(name)
        if ev and ev.target not in taken_targets:
            confidence, reason = calibrate(ev.score), ev.reason
            if column.get("type") == "empty":
                # Nothing to check the header against: proposed for the review, never loaded unseen.
                confidence, reason = min(confidence, EMPTY_CONFIDENCE), f"{reason}; no values to check"
            proposals.append(Proposal(name, ev.target, confidence, reason, transform_for(column, ev.target)))
            taken_targets.add(ev.target)
        else:
            phrase = normalize_header(name)
            why = not_keys.get(name) or noise_reason(phrase, column) or unmapped_reason(scored[name], selected)
            proposals.append(Proposal(name, None, unmapped_confidence(scored[name]), why))
    _row_key(proposals, structure, taken_targets)
    _stock_counts_are_levels(proposals, grain)
    reference_fallback(proposals, scored, selected, taken_targets, not_keys)
    rows = grain.get("rows") or profile.get("rows_profiled") or 0
    buyer_reference(proposals, columns, rows, selected, taken_targets)
    proposals += reference_duplicates(proposals, selected, by_name, taken_targets)
    _total_above_the_lines(proposals, grain, selected, taken_targets)
    if statement:
        sign_by_marker(statement, proposals)
    divide_minor_units(proposals, file_evidence(grain))
    if calibrate_confidence:
        _calibrate(proposals, by_name, grain)
        if guessed:
            _what_a_row_is_unsettled(proposals, selected[0])
    order = {c["name"]: i for i, c in enumerate(columns)}
    proposals.sort(key=lambda p: order.get(p.source_col, len(order)))
    document = {
        "file": file,
        "rows": profile.get("rows") if profile.get("rows") is not None else profile.get("rows_profiled"),
        "dialect": {k: v for k, v in dialect.items() if k in ("delimiter", "quote", "encoding", "header")},
        "proposals": [p.as_json() for p in proposals],
    }
    return document, structure, selected


def _calibrate(proposals: list[Proposal], by_name: dict, grain: dict) -> None:
    """Confidence as the evidence earns it: two kinds agreeing, or decisive values (proposer/calibration.py).
    A mapping users saved for this layout is a person's word: only values that contradict it lower it."""
    dates = sum(1 for c in by_name.values() if c.get("type") in ("date", "datetime"))
    money = len(money_columns(list(by_name.values())))
    for i, p in enumerate(proposals):
        # An attribute keeps a column as it is (a learned mapping may carry one): nothing to calibrate.
        if not p.target or p.target.column.startswith(ATTRIBUTE_PREFIX):
            continue
        number = p.extra.get("items_numbered_by")
        if number and one_item_per_row_holds(proposals, by_name, number):
            why = "no other column's values could be a count: each row's money is its value either way"
            proposals[i] = Proposal(p.source_col, p.target, p.confidence, f"{p.reason}; {why}", p.transform, p.extra)
            continue
        signals = read_signals(
            by_name.get(p.source_col or ""), p.target, grain=grain, date_columns=dates, money_columns=money
        )
        if p.reason.startswith(LEARNED) and signals.values != CONTRADICT:
            continue
        confidence, why = calibrated(p.confidence, signals)
        if why:
            proposals[i] = Proposal(p.source_col, p.target, confidence, f"{p.reason}; {why}", p.transform, p.extra)


def _what_a_row_is_unsettled(proposals: list[Proposal], table: str) -> None:
    """No table's required facts (an invoice's date and amount, a payment's amount) are all in the file: the
    table is the headers' best guess, so nothing is loaded unseen; a person says what one row is."""
    why = f"no column could fill every fact a {row_label(table)} needs: what one row is needs a person"
    for i, p in enumerate(proposals):
        if p.target and p.confidence > ONE_KIND and not p.reason.startswith(LEARNED):
            proposals[i] = Proposal(p.source_col, p.target, ONE_KIND, f"{p.reason}; {why}", p.transform, p.extra)


def _total_above_the_lines(proposals: list[Proposal], grain: dict, selected: list[str], taken: set[Target]) -> None:
    """A line amount that is not the quantity × the unit price, while another column is and the proposed one
    adds a third to it (a tax), is the total charged for the order, not the line's amount: it goes to the
    order (when the order key holds it constant), and the product of quantity and price stays the line's."""
    found = grain.get("arithmetic") or {}
    where = {p.target: i for i, p in enumerate(proposals) if p.target and p.source_col}
    lines = "canonical_order_lines"
    q, price, line = (where.get(Target(lines, c)) for c in ("quantity", "unit_price", "amount"))
    if q is None or price is None or line is None:
        return
    factors = {proposals[q].source_col, proposals[price].source_col}
    made = [c for c, a, b in found.get("products", []) if {a, b} == factors]
    total = proposals[line].source_col
    if not made or total in made:
        return
    net = made[0]
    added = next((a if b == net else b for c, a, b in found.get("sums", []) if c == total and net in (a, b)), None)
    if added is None:
        return
    why = f"'{total}' is '{net}' + '{added}' on every row and '{net}' is the quantity × the unit price"
    old = proposals[line]
    order = Target("canonical_orders", "amount")
    key = next((p.source_col for p in proposals if p.target == Target("canonical_orders", "external_id")), None)
    held = key and ((grain.get("keys") or {}).get(key) or {})
    constant = bool(held) and (held.get("unique") or total in (held.get("determines") or []))
    if "canonical_orders" in selected and order not in taken and constant:
        proposals[line] = Proposal(
            total, order, old.confidence, f"{why}: the total charged for the order", old.transform
        )
        taken.add(order)
    else:
        proposals[line] = Proposal(total, None, ONE_KIND, f"{why}: the total charged, not the line's amount")
    taken.discard(Target(lines, "amount"))
    for i, p in enumerate(proposals):
        if p.source_col == net and p.target is None:
            reason = f"'{net}' is the quantity × the unit price on every row: the line's amount"
            proposals[i] = Proposal(net, Target(lines, "amount"), ROW_KEY, reason, old.transform)
            taken.add(Target(lines, "amount"))


def file_grain(structure: Structure, selected: list[str]) -> dict:
    """{"table", "reason"}: the table whose rows the file's rows are, as the file's evidence says (a repeating
    order key with what varies within it, a key unique on every row), else the table its columns fit best;
    {"table": None} when the proposer found no table. The mapping's option `grain` (docs/SCHEMA.md)."""
    table = structure.grain_table or (selected[0] if selected else None)
    if table is None:
        return {"table": None, "reason": "no canonical table fits the file"}
    if structure.skip_rows:
        return {**file_grain(replace(structure, skip_rows=None), selected), "skip_rows": structure.skip_rows}
    if structure.grain_reason and table == structure.grain_table:
        return {"table": table, "reason": structure.grain_reason}
    label = row_label(table)
    key = structure.keys.get(table)
    if key and structure.unique.get(key):
        return {"table": table, "reason": f"'{key}' is unique on every row: one row per {label}"}
    return {"table": table, "reason": f"the file's headers and values fit {label}s best"}


def _stock_counts_are_levels(proposals: list[Proposal], grain: dict) -> None:
    """A stock count is a level: one per product (and warehouse) per day. Rows that repeat a product on one
    date are events (returns, sales), not counts: no column of them is a stock count's (in place)."""
    table = "canonical_inventory"
    by_target = {p.target.column: p for p in proposals if p.target and p.target.table == table and p.source_col}
    product, day = by_target.get("product_id"), by_target.get("snapshot_date")
    if not product or not day or "warehouse" in by_target:
        return
    pairs = ((grain.get("per_date") or {}).get(product.source_col) or {}).get(day.source_col)
    rows = grain.get("rows") or 0
    if pairs is None or pairs >= rows:
        return
    why = (
        f"'{product.source_col}' repeats on one '{day.source_col}' ({pairs} pairs on {rows} rows): the rows are "
        "events, not stock counts (one per product per day)"
    )
    for i, p in enumerate(proposals):
        if p.target and p.target.table == table:
            proposals[i] = Proposal(p.source_col, None, 0.5, f"{why}; not {p.target.key} ({p.reason})")


KNOWN_KEYS = 0.92  # a column whose values are keys of an entity already loaded refers to that entity
KNOWN_SHARE = 0.8  # of its shown values
KNOWN_HEADER = 0.05  # of the header's own evidence, added to tell two such columns apart


def keys_already_loaded(scored: dict, known: dict, selected: list[str]) -> None:
    """A column whose values are, nearly all, keys of rows already loaded (a seller id whose values are
    the suppliers' ids) refers to that entity from the tables the file feeds, whatever its header calls
    it (in place)."""
    for name, tables in known.items():
        if name not in scored:
            continue
        for table, (matched, tried) in tables.items():
            if tried < 3 or matched < KNOWN_SHARE * tried or table not in TABLES_BY_NAME:
                continue
            why = f"values are keys of {table.removeprefix('canonical_')} already loaded ({matched} of {tried})"
            for spec in (TABLES_BY_NAME[t] for t in selected):
                for col, referenced in spec.references.items():
                    if referenced != table or spec.name == table:
                        continue
                    target = Target(spec.name, col)
                    current = scored[name].get(target)
                    if current is None or current.score < KNOWN_KEYS:
                        reason = f"{current.reason}; {why}" if current else why
                        # Small numbers fall among small keys by chance (a status 1-4 among staff 1-10): where
                        # two columns' values both are keys, the one whose header also names it refers to it.
                        score = KNOWN_KEYS + KNOWN_HEADER * (current.score if current else 0.0)
                        scored[name][target] = Evidence(target, score, reason)


def _generic_keys_are_the_rows(scored: dict, selected: list[str]) -> None:
    """A bare "Id" is the key of the rows' own table, never of another entity the file also feeds."""
    if not selected:
        return
    for name, evidence in scored.items():
        if normalize_header(name) in GENERIC_KEYS:
            for target in [t for t in evidence if t.column == "external_id" and t.table != selected[0]]:
                evidence.pop(target)


def _row_key(proposals: list[Proposal], structure, taken: set[Target]) -> None:
    """The key of a row-grain table with no id of its own: the order key plus a number within it
    (order_id + line number, by concat), else a column unique on every row that names no entity."""
    table = structure.grain_table
    if not table or table not in TABLES_BY_NAME or "external_id" not in TABLES_BY_NAME[table].column_names:
        return
    target = Target(table, "external_id")
    if target in taken:
        # A key the header hints at weakly ("MPS ID") is earned when it is unique on every row.
        for i, p in enumerate(proposals):
            if p.target == target and p.source_col and structure.unique.get(p.source_col) and p.confidence < ROW_KEY:
                reason = f"{p.reason}; unique on every row: the {table.removeprefix('canonical_')} row's own key"
                proposals[i] = Proposal(p.source_col, target, ROW_KEY, reason, p.transform)
        # A key learned as the order key + the item number (concat): the number is part of it, one item per row.
        key = next((p for p in proposals if p.target == target), None)
        joined = [c for s in (key.transform if key else None) or [] if s.get("op") == "concat" for c in s["columns"]]
        if structure.line_key and key and [key.source_col, *joined] == list(structure.line_key):
            number = structure.line_key[1]
            at = next((i for i, p in enumerate(proposals) if p.source_col == number and p.target is None), None)
            if at is not None:
                proposals[at] = Proposal(number, None, 0.85, f"part of {target.key} with '{key.source_col}' (concat)")
            _one_item_per_row(proposals, table, number, taken)
        return
    by_col = {p.source_col: i for i, p in enumerate(proposals) if p.source_col}
    if structure.line_key:
        parent, number = structure.line_key
        if number in by_col and proposals[by_col[number]].target is None:
            row = "line" if table == "canonical_order_lines" else table.removeprefix("canonical_").rstrip("s")
            reason = f"'{parent}' + '{number}' are unique together on every row: the {row}'s key"
            proposals.append(
                Proposal(parent, target, 0.85, reason, [{"op": "concat", "columns": [number], "separator": "-"}])
            )
            proposals[by_col[number]] = Proposal(number, None, 0.85, f"part of {target.key} with '{parent}' (concat)")
            taken.add(target)
            _one_item_per_row(proposals, table, number, taken)
            return
    name = structure.row_number
    # A header that says "row" or "index" numbers the export's rows, not the business's lines.
    if (
        name
        and name in by_col
        and proposals[by_col[name]].target is None
        and not noise_reason(normalize_header(name), {})
    ):
        reason = f"'{name}' is unique on every row and names no other entity: the {table} row's own key"
        proposals[by_col[name]] = Proposal(name, target, 0.8, reason)
        taken.add(target)


def _one_item_per_row(proposals: list[Proposal], table: str, number: str, taken: set[Target]) -> None:
    """Items numbered within their order (`number`), with no quantity column: each row is one item."""
    quantity = Target(table, "quantity")
    if table == "canonical_order_lines" and quantity not in taken:
        reason = f"no quantity column; '{number}' numbers the items of each order: each row is one item"
        proposals.append(
            Proposal(None, quantity, 0.75, reason, [{"op": "constant", "value": 1}], {"items_numbered_by": number})
        )
        taken.add(quantity)


def _learned_fits(prior: dict, column: dict) -> list[dict] | None:
    """The learned transform, unless its date format cannot read this file's values (then the values'
    own reading replaces it)."""
    steps = prior.get("transform") or []
    for step in steps:
        fmt = step.get("format") if step.get("op") == "parse_date" else None
        known = [column.get("format"), *(column.get("alternatives") or [])]
        if fmt and fmt != "auto" and column.get("format") and fmt not in known:
            return None
    return steps or None
