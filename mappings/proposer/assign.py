"""Assigning columns to targets one-to-one, plus the combinations: name parts, key columns as references."""

from __future__ import annotations

from dataclasses import dataclass, field

from canonical.schema import TABLES_BY_NAME
from mappings.proposer.scoring import GENERIC_KEYS, MIN_SCORE, NO_MATCH, Evidence, Target, calibrate
from mappings.proposer.text import normalize_header
from mappings.proposer.vocabulary import vocabulary

_FIRST_NAME = frozenset({"first name", "vorname", "prenom", "nombre de pila", "given name", "forename"})


_LAST_NAME = frozenset({"last name", "nachname", "nom de famille", "apellido", "apellidos", "family name"})


PEOPLE = ("canonical_customers", "canonical_employees", "canonical_suppliers")
EMPTY_HEADER = 0.75  # an empty column has only its header: it must name the target outright


@dataclass
class Proposal:
    source_col: str | None
    target: Target | None
    confidence: float
    reason: str
    transform: list[dict] | None = None
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "source_col": self.source_col,
            "canonical_table": self.target.table if self.target else None,
            "canonical_col": self.target.column if self.target else None,
            "transform": self.transform,
            "confidence": round(max(0.0, min(1.0, self.confidence)), 3),
            "reason": self.reason,
        }


def assign(columns, scored, selected: list[str]) -> tuple[dict[str, Evidence], list[Proposal]]:
    """One target per column and one column per target, strongest evidence first."""
    pairs = []
    for column in columns:
        empty = column.get("type") == "empty"
        for target, ev in scored[column["name"]].items():
            if target.table in selected:
                bonus = 0.01 if target.table == selected[0] else 0.0
                pairs.append((empty, ev.score + bonus, column["name"], ev))
    # An empty column only takes what no column with values wants: its header is all it has.
    pairs.sort(key=lambda p: (p[0], -p[1], p[2]))
    assigned: dict[str, Evidence] = {}
    taken: set[Target] = set()
    filled = {c["name"]: 1 - (c.get("null_share") or 0) for c in columns}
    for empty, score, name, ev in pairs:
        if name in assigned or ev.target in taken or score < (EMPTY_HEADER if empty else MIN_SCORE):
            continue
        if _refers_by_its_key(ev.target, name, assigned, scored, empty):
            continue
        if _a_fuller_column_gives_it(ev.target, name, filled, assigned, scored):
            continue
        assigned[name] = ev
        taken.add(ev.target)
    return assigned, []


NAME_VARIANTS = 1.1  # an entity's names may outnumber its keys by this much (spelling variants of one name)
NAMES_IT = 0.8  # evidence a column is an entity's name, whether or not the file feeds that entity


def _best(evidence: dict[Target, Evidence]) -> Evidence:
    return max(evidence.values(), key=lambda e: e.score)


def keys_outnumbered_by_names(assigned: dict[str, Evidence], columns, scored) -> dict[str, str]:
    """A column is an entity's key, or a reference to it, only if it has at least as many values as the entity's
    names in the same file: a key decides its entity's name. "Company" with 30 values beside 1,595 customer names is
    what the customers bought (the car's make), not who they are. Such a key or reference leaves `assigned` (in
    place); returns {column: why} for its reason."""
    distinct = {c["name"]: c.get("distinct") or 0 for c in columns}
    dropped = {}
    for name, ev in list(assigned.items()):
        entity = ev.target.references or (ev.target.table if ev.target.column == "external_id" else None)
        if not entity or "name" not in TABLES_BY_NAME[entity].lookup_columns:
            continue
        target = Target(entity, "name")
        # A column whose own best reading is that entity's name (the rows' "FirstName" is the customer's, not the
        # sales rep's, however alike the words).
        named = [
            (evidence[target].score, other)
            for other, evidence in scored.items()
            if other != name
            and target in evidence
            and evidence[target].score >= max(NAMES_IT, ev.score)
            and (assigned[other].target == target if other in assigned else _best(evidence).target == target)
        ]
        if not named:
            continue
        named_by = max(named)[1]
        if distinct[named_by] > NAME_VARIANTS * distinct[name] + 1:
            del assigned[name]
            dropped[name] = (
                f"{distinct[name]} values for {distinct[named_by]} names in '{named_by}': a key decides its "
                f"entity's name, so '{name}' is no key of {entity} ({ev.target.key} was {ev.reason})"
            )
    return dropped


TIED = 0.02  # evidence this close cannot tell two columns apart
SPARSE = 0.5  # a column filled on fewer rows than this share gives a row's fact on a few rows only
FULLER = 2.0  # a column filled on this many times as many rows gives that fact on the rows
FULLER_EVIDENCE = 0.6  # and its own evidence for the target must be a reading, not a guess


def _a_fuller_column_gives_it(target: Target, name: str, filled: dict, assigned: dict, scored) -> bool:
    """Whether a column free to take `target`, filled on most rows, gives the fact `name` gives on a few rows
    only: a table's column holds a fact of every row, so the full column is it, whatever the headers' strength
    (a shop's "Sale price", set on a few products, beside the "Regular price" every product has)."""
    mine = filled.get(name, 1.0)
    if mine >= SPARSE:
        return False
    return any(
        other != name
        and other not in assigned
        and filled.get(other, 0.0) >= max(FULLER * mine, SPARSE)
        and target in evidence
        and evidence[target].score >= max(FULLER_EVIDENCE, _best(evidence).score - TIED)
        for other, evidence in scored.items()
    )


def _refers_by_its_key(target: Target, name: str, assigned: dict[str, Evidence], scored, empty: bool) -> bool:
    """Whether another column, already the key of the entity `target` refers to, has as much evidence for
    `target`: the rows refer to an entity by its key ("Account Id" keys the customers, so the invoices'
    customer is "Account Id", not the "Contact Id" its header fits as well); that column takes it as well.
    An empty column yields it to that key whatever its header says (Shopify's empty "Receipt Number" beside
    the order's "Name")."""
    if not target.references:
        return False
    key = Target(target.references, "external_id")
    mine = scored[name][target].score
    return any(
        ev.target == key
        and other != name
        and (empty or (target in scored[other] and scored[other][target].score >= mine - TIED))
        for other, ev in assigned.items()
    )


def name_concat(columns, assigned: dict[str, Evidence], selected: list[str]) -> dict[str, Proposal]:
    """First + last name columns → one name, when no column already gives the full name."""
    phrases = {c["name"]: normalize_header(c["name"]) for c in columns}
    first = next((n for n, p in phrases.items() if p in _FIRST_NAME or p.endswith(" first name")), None)
    last = next((n for n, p in phrases.items() if p in _LAST_NAME or p.endswith(" last name")), None)
    if not first or not last:
        return {}
    # A person's first and last name name a person or company entity (never a product); the one the header
    # names ("contact first name": a customer's contact), else the first such table the file feeds.
    people = [t for t in selected if t in PEOPLE]
    words = set(phrases[first].split()) | set(phrases[last].split())
    named = [t for t in people if words & set(vocabulary().entity_words[t])]
    table = (named or people or [None])[0]
    if not table:
        return {}
    target = Target(table, "name")
    holder = next((n for n, ev in assigned.items() if ev.target == target), None)
    # A full name the rows mostly lack (a Company left blank for people) is not what names them: first + last is.
    kinds = {c["name"]: c for c in columns}
    mostly_empty = bool(holder) and (kinds.get(holder) or {}).get("null_share", 0) >= 0.5
    if holder and assigned[holder].score >= 0.85 and not mostly_empty:
        return {}
    if holder:
        del assigned[holder]
    assigned.pop(first, None)
    assigned.pop(last, None)
    blank = [n for n in (first, last) if (kinds.get(n) or {}).get("type") == "empty"]
    if len(blank) == 1:
        # One half empty on every row (a CRM's unused "First Name"): the other holds the whole name alone.
        whole = last if blank[0] == first else first
        return {
            whole: Proposal(whole, target, 0.9, f"'{blank[0]}' is empty on every row: '{whole}' holds the whole name"),
            blank[0]: Proposal(blank[0], None, 0.9, "column is empty"),
        }
    # concat appends its columns to the row's own value (docs/TRANSFORMS.md): first name + last name.
    transform = [{"op": "concat", "columns": [last], "separator": " "}]
    return {
        first: Proposal(
            first,
            target,
            0.9,
            f"'{first}' + ' ' + '{last}' form the full name (concat transform)",
            transform,
        ),
        last: Proposal(last, None, 0.9, f"part of {table}.name, combined with '{first}' (see its concat)"),
    }


NAMES_CLEARER = 0.05  # a header naming one entity this much more clearly than another refers to the first


def reference_fallback(
    proposals: list[Proposal], scored, selected: list[str], taken: set[Target], not_keys=frozenset()
) -> None:
    """An unmapped column that clearly names another entity's key or name ("Número de cliente", "Société"
    in an invoice list) is the reference to that entity from a table this file feeds, if one is free. Not a
    column the values showed is no key (`not_keys`, from `keys_outnumbered_by_names`)."""
    candidates = []
    for index, p in enumerate(proposals):
        # A bare "id" names the row's own entity, never another's: it is no reference.
        if p.target is not None or not p.source_col or normalize_header(p.source_col) in GENERIC_KEYS:
            continue
        if p.source_col in not_keys:
            continue
        evidence = scored.get(p.source_col, {})
        # The entity the header names most clearly: "Account Name" is an account's (a customer's) name before
        # it is an employee's, so it is no reference to an employee.
        clearest = max(
            (ev.score for ev in evidence.values() if ev.target.column in ("external_id", "name")),
            default=0.0,
        )
        for ev in evidence.values():
            if ev.score < 0.75 or ev.target.table in selected or ev.target.column not in ("external_id", "name"):
                continue
            if clearest - ev.score >= NAMES_CLEARER:
                continue
            # A header that fits the rows' own column as well ("Company": a customer's name as much as an
            # employee's) describes the rows themselves: it refers to no other entity.
            if any(
                t.table in selected and t.column == ev.target.column and e.score >= ev.score
                for t, e in evidence.items()
            ):
                continue
            for table in selected:
                for col, referenced in TABLES_BY_NAME[table].references.items():
                    if referenced == ev.target.table:
                        candidates.append((ev.score, index, Target(table, col), ev))
    for score, index, target, ev in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if target in taken or proposals[index].target is not None:
            continue
        entity = ev.target.table.removeprefix("canonical_")
        reason = f"{ev.reason}; this file feeds no {entity} of its own, so it is the {target.key} reference"
        proposals[index] = Proposal(proposals[index].source_col, target, calibrate(score * 0.9), reason)
        taken.add(target)


def reference_duplicates(proposals: list[Proposal], selected: list[str], by_name, taken: set[Target]) -> list:
    """A denormalized file's key column also feeds the references to its entity from the other tables."""
    extra: list[Proposal] = []
    keys: dict[str, Proposal] = {}
    for p in proposals:
        if p.target and p.target.column == "external_id":
            keys.setdefault(p.target.table, p)
    # The other way round: a selected table's key, given only as the primary table's reference column
    # ("Customer ID" → orders.customer_id), is also that table's external_id.
    for table in selected:
        target = Target(table, "external_id")
        if target in taken or table in keys:
            continue
        ref = next((p for p in proposals if p.target and p.target.references == table and p.source_col), None)
        if ref is None:
            continue
        dup = Proposal(
            ref.source_col,
            target,
            ref.confidence * 0.97,
            f"'{ref.source_col}' identifies the {table.removeprefix('canonical_')} of each row (also {ref.target.key})",
            ref.transform,
        )
        extra.append(dup)
        keys[table] = dup
        taken.add(target)
    for p in proposals:
        if p.target and p.target.column in ("email", "name") and p.target.table not in keys:
            keys.setdefault(p.target.table, p)
    for table in selected:
        for col, referenced in TABLES_BY_NAME[table].references.items():
            target = Target(table, col)
            key = keys.get(referenced)
            if target in taken or key is None or key.target.table == table:
                continue
            extra.append(
                Proposal(
                    key.source_col,
                    target,
                    key.confidence * 0.97,
                    f"'{key.source_col}' identifies the {referenced.removeprefix('canonical_')} of each row "
                    f"(also {key.target.key})",
                    [s for s in (key.transform or []) if s["op"] in ("map_values", "trim", "lower", "split_part")]
                    or None,
                )
            )
            taken.add(target)
    return extra


BUYERS = 0.2  # distinct values per row a party needs to be who bought (a handful of reps sell many orders)
MIN_BUYERS = 10
BUYER_CONFIDENCE = 0.72  # reasoned from values: loaded by --auto, shown as a guess to check


def _one_token_codes(column: dict) -> bool:
    values = [t["value"] for t in column.get("top", [])] or column.get("samples", [])
    codes = [v for v in values if v.strip() and " " not in v.strip() and any(ch.isdigit() for ch in v)]
    return bool(values) and len(codes) >= 0.8 * len(values)


def buyer_reference(proposals: list[Proposal], columns, rows: int, selected: list[str], taken: set[Target]) -> None:
    """The one unmapped reference column of an orders (or invoices) file, a repeating id whose header names no
    entity the file knows ("user_id"), with about as many values as there are rows, is who placed them: the
    rows' customer. A handful of values over many orders would be who sold them, so that is left alone."""
    if not selected or rows < 2:
        return
    target = Target(selected[0], "customer_id")
    if target in taken or TABLES_BY_NAME[selected[0]].references.get("customer_id") != "canonical_customers":
        return
    if any(p.target == Target("canonical_customers", "external_id") for p in proposals):
        return  # the customers' own key is in the file: the rows refer to them by it (reference_duplicates)
    kinds = {c["name"]: c for c in columns}
    found = []
    for index, p in enumerate(proposals):
        column = kinds.get(p.source_col or "") or {}
        words = normalize_header(p.source_col or "").split()
        if p.target is not None or not words or " ".join(words) in GENERIC_KEYS:
            continue
        # The header calls it an id, or names nothing while the values are codes (ANON-0000-0012: a card's);
        # plain whole numbers under such a header count or measure something ("Age In Days") as often as not.
        codes = _one_token_codes(column) and column.get("type") != "integer"
        if words[-1] not in ("id", "key") and not (p.reason == NO_MATCH and codes):
            continue
        distinct = column.get("distinct") or 0
        if column.get("type") not in ("integer", "identifier") or column.get("unique") or distinct < MIN_BUYERS:
            continue
        if distinct >= BUYERS * rows:
            found.append((index, distinct))
    if len(found) != 1:
        return
    index, distinct = found[0]
    name = proposals[index].source_col
    reason = (
        f"'{name}' repeats with {distinct} values over {rows} rows: a party with nearly as many values as the rows "
        f"is who placed them (a handful would be who sold them), so it is the {target.key} reference"
    )
    proposals[index] = Proposal(name, target, BUYER_CONFIDENCE, reason)
    taken.add(target)
