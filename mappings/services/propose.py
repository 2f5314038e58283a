"""The mapping proposer: which canonical table.column each source column feeds, how sure, and why.

Offline and deterministic. For every (column, canonical column) pair the evidence is
  - the header: normalized (case, punctuation, camelCase, accents, units in parentheses), abbreviations
    expanded, then looked up in the synonym tables (mappings/services/vocabulary.py) exactly, with the
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

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process

from canonical.schema import TABLES, TABLES_BY_NAME
from mappings.services import vocabulary as vocab

CONFIDENT = 0.8  # at or above: accepted by `ingest --auto`, shown as confident on the review page
MIN_SCORE = 0.45  # below: left unmapped

_CAMEL_1 = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_2 = re.compile(r"([A-Z]+)([A-Z][a-z])")
_PARENS = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")
_STOPWORDS = frozenset({"of", "the", "de", "du", "la", "le", "del", "des", "d", "l", "y", "et", "und", "en", "a"})

_FIRST_NAME = frozenset({"first name", "vorname", "prenom", "nombre de pila", "given name", "forename"})
_LAST_NAME = frozenset({"last name", "nachname", "nom de famille", "apellido", "apellidos", "family name"})


def normalize_header(header: str) -> str:
    """'Order Date (UTC)' → 'order date'; 'custEmailAddr' → 'customer email address'; 'Rechnungs-Nr.' → ..."""
    from mappings.services.profile import normalize_text

    text = _PARENS.sub(" ", header or "")
    text = text.replace("#", " number ").replace("&", " and ").replace("%", " percent ")
    text = _CAMEL_2.sub(r"\1 \2", _CAMEL_1.sub(r"\1 \2", text))
    text = normalize_text(text)
    words = re.split(r"[^a-z0-9]+", text)
    phrase = " ".join(w for w in words if w)
    phrase = re.sub(r"\be mail\b", "email", phrase)
    expanded: list[str] = []
    for word in phrase.split():
        expanded.extend(vocab.ABBREVIATIONS.get(word, word).split())
    return " ".join(expanded)


def _content_words(phrase: str) -> list[str]:
    return [w for w in phrase.split() if w not in _STOPWORDS]


@dataclass(frozen=True)
class Target:
    table: str
    column: str

    @property
    def key(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def type(self) -> str:
        return TABLES_BY_NAME[self.table].column(self.column).type

    @property
    def references(self) -> str | None:
        return TABLES_BY_NAME[self.table].column(self.column).references


@cache
def _synonym_index() -> dict[str, list[tuple[Target, float]]]:
    """normalized phrase → [(target, strength)]: how much a header equal to the phrase says."""
    index: dict[str, dict[Target, float]] = {}

    def add(phrase: str, target: Target, strength: float) -> None:
        norm = normalize_header(phrase)
        if norm:
            slot = index.setdefault(norm, {})
            slot[target] = max(slot.get(target, 0.0), strength)

    for table in TABLES:
        entities = vocab.ENTITY_WORDS[table.name]
        for col in table.columns:
            target = Target(table.name, col.name)
            add(col.name.replace("_", " "), target, 0.9 if col.name != "external_id" else 0.5)
            for phrase in vocab.TABLE_COLUMN_SYNONYMS.get(target.key, ()):
                add(phrase, target, 0.95)
            for phrase in vocab.COLUMN_SYNONYMS.get(col.name, ()):
                add(phrase, target, 0.85)
                # "customer email", "product name", "invoice status": the entity word makes it specific.
                for entity in entities[:2]:
                    add(f"{entity} {phrase}", target, 0.96)
            if col.name == "external_id":
                for entity in entities[:2]:
                    for suffix in ("id", "number", "code", "key", "ref"):
                        add(f"{entity} {suffix}", target, 0.95)
    return {phrase: sorted(targets.items(), key=lambda t: -t[1]) for phrase, targets in index.items()}


@cache
def _entity_owner() -> dict[str, str]:
    owner: dict[str, str] = {}
    for table, words in vocab.ENTITY_WORDS.items():
        for word in words:
            owner.setdefault(word, table)
    return owner


@dataclass
class Evidence:
    target: Target
    score: float
    reason: str


def _header_evidence(phrase: str) -> dict[Target, Evidence]:
    """Every target the header alone points at, with the strongest reason for each."""
    index = _synonym_index()
    found: dict[Target, Evidence] = {}

    def offer(target: Target, score: float, reason: str) -> None:
        if target not in found or found[target].score < score:
            found[target] = Evidence(target, score, reason)

    if not phrase:
        return found
    for target, strength in index.get(phrase, ()):
        offer(target, strength, f"header matches synonym '{phrase}' of {target.column}")
    words = phrase.split()
    # Strip an entity word: "customer city" in any file → "city" of the customer table.
    owner = _entity_owner()
    for i, word in enumerate(words):
        table = owner.get(word)
        rest = " ".join(words[:i] + words[i + 1 :])
        if table and rest:
            for target, strength in index.get(rest, ()):
                if target.table == table:
                    offer(target, strength * 0.97, f"header '{phrase}' = {word} + '{rest}'")
                elif target.references == table:
                    offer(target, strength * 0.9, f"header '{phrase}' names a {word} ({rest})")
    # Containment: "Lineitem quantity" contains "quantity"; extra words weaken it.
    content = _content_words(phrase)
    if len(content) > 1:
        for n in range(len(content) - 1, 0, -1):
            for start in range(0, len(content) - n + 1):
                sub = " ".join(content[start : start + n])
                for target, strength in index.get(sub, ()):
                    share = n / len(content)
                    offer(target, strength * (0.55 + 0.3 * share), f"header contains '{sub}'")
    # Fuzzy: typos and near-forms ("Rechungsdatum", "Quantitiy", "Customer_Nmae").
    for match, ratio, _ in process.extract(phrase, list(index), scorer=fuzz.ratio, limit=8, score_cutoff=82):
        for target, strength in index[match]:
            offer(target, strength * (ratio / 100) ** 2 * 0.9, f"header resembles '{match}' ({ratio:.0f}%)")
    return found


def _value_fit(column: dict, target: Target) -> tuple[float, str]:
    """How the column's values fit the target's type: a factor on the score, and a reason when telling."""
    kind = column.get("type", "text")
    if kind == "empty":
        return 0.8, "column is empty"
    ttype = target.type
    if ttype in ("date", "timestamp"):
        if kind in ("date", "datetime"):
            return 1.08, f"values are dates ({column.get('format')})"
        return 0.25, ""
    if ttype in ("money", "number", "integer"):
        if kind == "decimal":
            return 1.06, "values are numbers" + (f" ({column.get('locale')} format)" if column.get("locale") else "")
        if kind == "integer":
            return (0.6, "") if column.get("id_like") and column.get("unique") else (1.04, "values are numbers")
        if kind == "boolean" and target.column == "discount":
            return 0.9, ""
        return 0.25, ""
    if ttype == "boolean":
        return (1.08, "values are yes/no") if kind == "boolean" else (0.35, "")
    # text targets
    col = target.column
    if col == "email":
        return (1.15, "values are e-mail addresses") if kind == "email" else (0.45, "")
    if col == "phone":
        return (1.1, "values are phone numbers") if kind == "phone" else (0.65, "")
    if kind in ("date", "datetime"):
        return 0.25, ""
    if col == "external_id" or target.references:
        if kind in ("identifier", "integer"):
            return 1.05, "values are identifiers"
        if kind == "email":
            return (1.0, "values are e-mail addresses (looked up by email)") if target.references else (0.7, "")
        if kind in ("decimal", "boolean"):
            return 0.3, ""
        if kind == "free_text":
            return 0.5, ""
        return 0.92, ""
    if col in ("country", "city", "currency", "status", "category", "segment", "team", "method", "warehouse"):
        if col == "currency" and kind in ("category", "text", "identifier"):
            codes = [t["value"] for t in column.get("top", [])]
            if codes and all(re.fullmatch(r"[A-Z]{3}|[$€£¥]", c) for c in codes):
                return 1.1, "values are currency codes"
        if kind in ("decimal", "integer", "boolean", "email"):
            return 0.3, ""
        return (1.03, "values are categories") if kind == "category" else (0.95, "")
    if col in ("name", "vendor", "title"):
        if kind in ("decimal", "integer", "boolean"):
            return 0.3, ""
        if kind == "email":
            return 0.55, ""
        return 1.0, ""
    return 1.0, ""


def _transform_for(column: dict, target: Target) -> list[dict] | None:
    """The steps a column needs to land in `target`, from its profile."""
    steps: list[dict] = []
    nulls = [t for t in column.get("null_tokens", []) if t.strip()]
    if nulls:
        steps.append({"op": "map_values", "map": {t: None for t in nulls}})
    ttype, kind = target.type, column.get("type")
    if ttype in ("date", "timestamp") and column.get("format"):
        steps.append({"op": "parse_date", "format": column["format"]})
    elif ttype in ("money", "number") and kind == "decimal":
        steps.append({"op": "parse_number", "locale": column.get("locale") or "en"})
    elif ttype == "boolean" and kind == "boolean":
        steps.append({"op": "parse_bool", "true_values": column["true_values"], "false_values": column["false_values"]})
    elif target.column == "email" and kind == "email":
        steps += [{"op": "trim"}, {"op": "lower"}]
    elif target.column == "status":
        mapping = _status_map(column, target)
        if mapping:
            steps.append({"op": "map_values", "map": mapping})
    return steps or None


def _status_map(column: dict, target: Target) -> dict[str, str]:
    from mappings.services.profile import normalize_text

    table = vocab.STATUS_SYNONYMS.get(target.key)
    if not table:
        return {}
    mapping = {}
    for top in column.get("top_all", column.get("top", [])):
        value = top["value"]
        canonical = table.get(normalize_text(value).strip())
        if canonical and canonical != value:
            mapping[value] = canonical
    return mapping


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


_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?$")
# Headers that name a row's key without naming its entity: the key of whichever table the file feeds.
GENERIC_KEYS = frozenset({"id", "key", "uuid", "record id", "object id", "row key"})


def _noise_reason(phrase: str, column: dict) -> str | None:
    words = set(phrase.split())
    if phrase in vocab.NOISE_HEADERS:
        return f"'{phrase}' is bookkeeping, not a business fact"
    noisy = words & vocab.NOISE_WORDS
    if noisy:
        return f"'{sorted(noisy)[0]}' columns are rarely business facts"
    if column.get("type") == "empty":
        return "column is empty"
    samples = [t["value"] for t in column.get("top", [])] or column.get("samples", [])
    if samples and all(_TIME_OF_DAY.match(v) for v in samples):
        return "a time of day without its date"
    return None


def _score_columns(columns: list[dict]) -> dict[str, dict[Target, Evidence]]:
    scored: dict[str, dict[Target, Evidence]] = {}
    for column in columns:
        name = column["name"]
        phrase = normalize_header(name)
        header = _header_evidence(phrase)
        qualified = bool(set(phrase.split()) & vocab.ADDRESS_QUALIFIERS)
        noise = _noise_reason(phrase, column)
        results: dict[Target, Evidence] = {}
        for target, ev in header.items():
            factor, why = _value_fit(column, target)
            score = ev.score * factor
            if qualified and target.column in ("name", "city", "country", "phone", "email"):
                score *= 0.6  # "Ship City" is where a parcel went, not the customer's city
            if noise:
                score *= 0.5
            reason = ev.reason + (f"; {why}" if why else "")
            results[target] = Evidence(target, min(score, 0.99), reason)
        if phrase in GENERIC_KEYS:
            keys = [ev for t, ev in results.items() if t.column == "external_id"]
            if keys:
                best = max(keys, key=lambda e: e.score)
                for table in TABLES:
                    t = Target(table.name, "external_id")
                    if t not in results or results[t].score < best.score:
                        results[t] = Evidence(t, best.score, best.reason.replace(best.target.key, t.key))
        # Values alone: an e-mail column is an email whatever its header says.
        if column.get("type") == "email":
            for table in TABLES:
                if "email" in table.column_names:
                    t = Target(table.name, "email")
                    if t not in results or results[t].score < 0.55:
                        results[t] = Evidence(t, 0.55, "values are e-mail addresses")
        scored[name] = results
    return scored


def _table_scores(scored: dict[str, dict[Target, Evidence]], hints: list[str]) -> dict[str, float]:
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
    owner = _entity_owner()
    for hint_index, hint in enumerate(hints):
        for word in normalize_header(hint).split():
            table = owner.get(word) or owner.get(word.rstrip("s"))
            if table:
                totals[table] += 2.5 if hint_index == 0 else 1.0
    return totals


def _select_tables(scored, totals: dict[str, float], hinted: str | None) -> list[str]:
    primary = hinted or max(totals, key=lambda t: totals[t])
    owner = _entity_owner()
    weak = {"contact", "contacts", "account", "accounts", "company", "companies", "sales", "item", "line"}
    named = {owner[w] for name in scored for w in normalize_header(name).split() if w in owner and w not in weak}
    # Columns that clearly belong to one table: its best evidence beats every other table's by a margin.
    # "Name" or "Email" alone fit customers, suppliers and employees equally and so decide nothing.
    own: dict[str, list[str]] = {}
    for evidence in scored.values():
        best_by_table: dict[str, Evidence] = {}
        for ev in evidence.values():
            if ev.target.table not in best_by_table or best_by_table[ev.target.table].score < ev.score:
                best_by_table[ev.target.table] = ev
        ranked = sorted(best_by_table.values(), key=lambda e: -e.score)
        if not ranked or ranked[0].score < 0.75:
            continue
        if len(ranked) == 1 or ranked[0].score - ranked[1].score >= 0.03:
            own.setdefault(ranked[0].target.table, []).append(ranked[0].target.column)
        elif ranked[0].target.table != primary:
            # A tie ("quantity": an order line's or a stock count) goes to the table the rest of the file
            # speaks for most, unless the primary table is among the tied: then it decides nothing.
            tied = [e for e in ranked if ranked[0].score - e.score < 0.03]
            if all(e.target.table != primary for e in tied):
                best = max(tied, key=lambda e: totals[e.target.table])
                if totals[best.target.table] > max(totals[e.target.table] for e in tied if e is not best) + 1.0:
                    own.setdefault(best.target.table, []).append(best.target.column)
    selected = [primary]
    for table in sorted(totals, key=lambda t: -totals[t]):
        cols = own.get(table, [])
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
        satisfiable = all(
            c.name in cols or _computable(table, c.name) or (c.references and c.references in selected)
            for c in required
        )
        if identified and satisfiable:
            selected.append(table)
    return selected


def _computable(table: str, column: str) -> bool:
    """Required columns the engine fills itself when no column feeds them."""
    return (table, column) in {("canonical_orders", "amount"), ("canonical_order_lines", "amount")}


def _assign(columns, scored, selected: list[str]) -> tuple[dict[str, Evidence], list[Proposal]]:
    """One target per column and one column per target, strongest evidence first."""
    pairs = []
    for column in columns:
        for target, ev in scored[column["name"]].items():
            if target.table in selected:
                bonus = 0.01 if target.table == selected[0] else 0.0
                pairs.append((ev.score + bonus, column["name"], ev))
    pairs.sort(key=lambda p: (-p[0], p[1]))
    assigned: dict[str, Evidence] = {}
    taken: set[Target] = set()
    for score, name, ev in pairs:
        if name in assigned or ev.target in taken or score < MIN_SCORE:
            continue
        assigned[name] = ev
        taken.add(ev.target)
    return assigned, []


def _name_concat(columns, assigned: dict[str, Evidence], selected: list[str]) -> dict[str, Proposal]:
    """First + last name columns → one name, when no column already gives the full name."""
    phrases = {c["name"]: normalize_header(c["name"]) for c in columns}
    first = next((n for n, p in phrases.items() if p in _FIRST_NAME or p.endswith(" first name")), None)
    last = next((n for n, p in phrases.items() if p in _LAST_NAME or p.endswith(" last name")), None)
    if not first or not last:
        return {}
    table = next((t for t in selected if "name" in TABLES_BY_NAME[t].column_names), None)
    if not table:
        return {}
    target = Target(table, "name")
    holder = next((n for n, ev in assigned.items() if ev.target == target), None)
    if holder and assigned[holder].score >= 0.85:
        return {}
    if holder:
        del assigned[holder]
    assigned.pop(first, None)
    assigned.pop(last, None)
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


def _learned(user_learned: dict[str, dict], name: str) -> dict | None:
    return user_learned.get(name) or user_learned.get(normalize_header(name))


def propose_from_profile(
    *, file: str, profile: dict, dialect: dict, domain_hint: str | None = None, learned: dict | None = None
) -> dict:
    """The contract's proposal document for a profiled file (see mapping_propose)."""
    columns = profile["columns"]
    learned = learned or {}
    scored = _score_columns(columns)
    hints = [h for h in (domain_hint, Path(file).stem) if h]
    totals = _table_scores(scored, hints)
    hinted = _hinted_table(domain_hint)
    selected = _select_tables(scored, totals, hinted)
    # A learned mapping applies where this file goes: "name" once mapped to customers says nothing
    # about a products file.
    learned = {k: v for k, v in learned.items() if v.get("canonical_table") in selected and v.get("canonical_col")}
    assigned, _ = _assign(columns, scored, selected)
    specials = _name_concat(columns, assigned, selected)
    by_name = {c["name"]: c for c in columns}
    proposals: list[Proposal] = []
    taken_targets: set[Target] = set()
    for column in columns:
        name = column["name"]
        prior = _learned(learned, name)
        if prior:
            target = Target(prior["canonical_table"], prior["canonical_col"]) if prior["canonical_table"] else None
            where = f"{target.key}" if target else "unmapped"
            proposals.append(
                Proposal(name, target, 0.97, f"mapped before by users: '{name}' → {where}", prior.get("transform"))
            )
            if target:
                taken_targets.add(target)
            continue
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
            confidence = _calibrate(ev.score)
            proposals.append(Proposal(name, ev.target, confidence, ev.reason, _transform_for(column, ev.target)))
            taken_targets.add(ev.target)
        else:
            phrase = normalize_header(name)
            why = _noise_reason(phrase, column) or _unmapped_reason(scored[name], selected)
            proposals.append(Proposal(name, None, _unmapped_confidence(scored[name]), why))
    _reference_fallback(proposals, scored, selected, taken_targets)
    proposals += _reference_duplicates(proposals, selected, by_name, taken_targets)
    order = {c["name"]: i for i, c in enumerate(columns)}
    proposals.sort(key=lambda p: order.get(p.source_col, len(order)))
    return {
        "file": file,
        "rows": profile.get("rows") if profile.get("rows") is not None else profile.get("rows_profiled"),
        "dialect": {k: v for k, v in dialect.items() if k in ("delimiter", "quote", "encoding", "header")},
        "proposals": [p.as_json() for p in proposals],
    }


def _hinted_table(domain_hint: str | None) -> str | None:
    if not domain_hint:
        return None
    hint = domain_hint.strip().lower()
    if hint in TABLES_BY_NAME:
        return hint
    if f"canonical_{hint}" in TABLES_BY_NAME:
        return f"canonical_{hint}"
    owner = _entity_owner()
    for word in normalize_header(hint).split():
        if word in owner:
            return owner[word]
    return None


def _calibrate(score: float) -> float:
    """Raw evidence → confidence. Measured on the evaluation set: exact synonyms with fitting values are
    right nearly always (≥ 0.9), containment/fuzzy-only matches about two times in three."""
    if score >= 0.9:
        return min(0.99, 0.9 + (score - 0.9) * 0.8)
    if score >= 0.75:
        return 0.75 + (score - 0.75) * 1.0
    return score * 0.95


def _unmapped_confidence(evidence: dict[Target, Evidence]) -> float:
    best = max((e.score for e in evidence.values()), default=0.0)
    return round(max(0.3, 0.9 - best), 3)


def _unmapped_reason(evidence: dict[Target, Evidence], selected: list[str]) -> str:
    if not evidence:
        return "no canonical column matches this header or its values"
    best = max(evidence.values(), key=lambda e: e.score)
    if best.target.table not in selected:
        return f"closest: {best.target.key} ({best.reason}), but this file does not feed {best.target.table}"
    if best.score < MIN_SCORE:
        return f"weak evidence only: {best.target.key} ({best.reason})"
    return f"{best.target.key} is taken by a column with stronger evidence"


def _reference_fallback(proposals: list[Proposal], scored, selected: list[str], taken: set[Target]) -> None:
    """An unmapped column that clearly names another entity's key or name ("Número de cliente", "Société"
    in an invoice list) is the reference to that entity from a table this file feeds, if one is free."""
    candidates = []
    for index, p in enumerate(proposals):
        if p.target is not None or not p.source_col:
            continue
        for ev in scored.get(p.source_col, {}).values():
            if ev.score < 0.75 or ev.target.table in selected or ev.target.column not in ("external_id", "name"):
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
        proposals[index] = Proposal(proposals[index].source_col, target, _calibrate(score * 0.9), reason)
        taken.add(target)


def _reference_duplicates(proposals: list[Proposal], selected: list[str], by_name, taken: set[Target]) -> list:
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
                    [s for s in (key.transform or []) if s["op"] in ("map_values", "trim", "lower")] or None,
                )
            )
            taken.add(target)
    return extra


def learned_mappings(*, user=None) -> dict[str, dict]:
    """Headers users mapped before → their latest saved target, by exact header and by normalized header."""
    from mappings.models import FieldMapping

    qs = FieldMapping.objects.exclude(source_col=None).order_by("-mapping__created_at", "-id")
    if user is not None and getattr(user, "is_authenticated", False):
        from mappings.selectors import data_sources_for_user

        qs = qs.filter(source__in=data_sources_for_user(user))
    learned: dict[str, dict] = {}
    for fm in qs.values("source_col", "canonical_table", "canonical_col", "transform")[:5000]:
        entry = {k: fm[k] for k in ("canonical_table", "canonical_col", "transform")}
        learned.setdefault(fm["source_col"], entry)
        learned.setdefault(normalize_header(fm["source_col"]), entry)
    return learned


def mapping_propose(*, source, domain_hint: str | None = None, user=None, notes: list[str] | None = None) -> dict:
    """Proposals for an upload, in the contract's shape:
    {"file", "rows", "dialect", "proposals": [{"source_col", "canonical_table", "canonical_col",
    "transform", "confidence", "reason"}]}. Profiles the source first if it has no profile yet.
    With ANTHROPIC_API_KEY set, an LLM's opinion is merged in (mappings/services/llm.py); what happened
    with it is appended to `notes`. Writes nothing but the profile.
    """
    from mappings.services.llm import llm_review
    from mappings.services.profile import data_source_profile

    profile = source.profile if source.profile.get("columns") else data_source_profile(source=source)
    document = propose_from_profile(
        file=source.name,
        profile=profile,
        dialect=source.dialect,
        domain_hint=domain_hint or source.domain or None,
        learned=learned_mappings(user=user),
    )
    document["rows"] = source.rows if source.rows is not None else document["rows"]
    return llm_review(document=document, profile=profile, notes=notes)


def missing_required_targets(fields: list[dict]) -> list[str]:
    """Required canonical columns of the tables a mapping feeds that no field fills ("table.column")."""
    from canonical.schema import TABLES_BY_NAME as tables

    covered: dict[str, set[str]] = {}
    for f in fields:
        if f.get("canonical_table") in tables and f.get("canonical_col"):
            covered.setdefault(f["canonical_table"], set()).add(f["canonical_col"])
    missing = []
    for table, cols in covered.items():
        for col in tables[table].columns:
            # external_id can be derived from the mapped values; some amounts are computed by the engine.
            if col.required and col.name not in cols and col.name != "external_id" and not _computable(table, col.name):
                missing.append(f"{table}.{col.name}")
    return missing
