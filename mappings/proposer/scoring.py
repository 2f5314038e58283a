"""Scoring each (source column, canonical column) pair: what the header says, how the values fit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz, process

from canonical.schema import TABLES, TABLES_BY_NAME
from mappings.proposer.text import content_words, normalize_header, normalize_text
from mappings.proposer.vocabulary import vocabulary

CONFIDENT = 0.8  # at or above: accepted by `ingest --auto`, shown as confident on the review page


MIN_SCORE = 0.45  # below: left unmapped


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
        # An attribute (`attributes.<key>`, a learned mapping may carry one) refers to nothing.
        if self.column.startswith("attributes."):
            return None
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
        entities = vocabulary().entity_words[table.name]
        for col in table.columns:
            target = Target(table.name, col.name)
            add(col.name.replace("_", " "), target, 0.9 if col.name != "external_id" else 0.5)
            for phrase in vocabulary().table_column_synonyms.get(target.key, ()):
                add(phrase, target, 0.95)
            for phrase in vocabulary().column_synonyms.get(col.name, ()):
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
def entity_owner() -> dict[str, str]:
    owner: dict[str, str] = {}
    for table, words in vocabulary().entity_words.items():
        for word in words:
            owner.setdefault(word, table)
    return owner


@dataclass
class Evidence:
    target: Target
    score: float
    reason: str


@cache
def _content_index() -> dict[str, list[tuple[str, Target, float]]]:
    """The synonyms by their content words alone ("numero pedido" ← "numero de pedido")."""
    index: dict[str, list[tuple[str, Target, float]]] = {}
    for phrase, targets in _synonym_index().items():
        for target, strength in targets:
            index.setdefault(" ".join(content_words(phrase)), []).append((phrase, target, strength))
    return index


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
    # "Categories", "Product Types": a plural names what each row holds several of, read as its singular when
    # the plural itself is no synonym.
    singular = _singular(phrase) if phrase not in index else None
    for target, strength in index.get(singular, ()) if singular else ():
        offer(target, strength * 0.97, f"header '{phrase}' is the plural of synonym '{singular}' of {target.column}")
    # The same words without their connecting ones: "numero pedido" is "número de pedido".
    for match, target, strength in _content_index().get(" ".join(content_words(phrase)), ()):
        if match != phrase:
            offer(target, strength * 0.98, f"header matches synonym '{match}' of {target.column} (but its 'de', 'of')")
    words = phrase.split()
    # Strip an entity word: "customer city" in any file → "city" of the customer table.
    owner = entity_owner()
    for i, word in enumerate(words):
        # "ordered", "invoiced", "shipped to": a participle of the entity word names the entity too.
        table = owner.get(word) or (owner.get(word[:-2]) if word.endswith("ed") and i == len(words) - 1 else None)
        rest = " ".join(words[:i] + words[i + 1 :])
        if table and 0 < i == len(words) - 2 and words[-1] in KEY_SUFFIXES:
            # "order details id", "sales order number": the key belongs to the last entity named before it,
            # the words before it only say which one ("order details": the lines), never another entity's key.
            # An item a document names ("order item id") is the document's item, its line: the line's own key.
            documents = {owner.get(w) for w in words[:i]} & set(_DOCUMENT_ITEMS)
            if table == _PRODUCTS and documents:
                table = _LINES
            target = Target(table, "external_id")
            offer(target, 0.9, f"header '{phrase}': the {words[-1]} of the {' '.join(words[:-1])}, its own key")
            continue
        if table and i == 0 and len(words) == 2 and rest in KEY_SUFFIXES:
            # "kunden id", "cliente code": an entity word and a key word, in any language the entity words know,
            # name that entity's key (a table the file feeds refers to it by the reference step).
            offer(Target(table, "external_id"), 0.9, f"header '{phrase}': the {rest} of a {word}, its key")
        # "seller sku": in an English header the last noun is what the column is, the words before say whose;
        # read without that noun, as what another entity word before it names, it is the weaker reading. A
        # "line" after a noun is that noun's line ("product line": a range of products), no line of a document.
        head_dropped = (
            0 < i == len(words) - 1
            and not word.endswith("ed")
            and table != _LINES
            and bool({owner.get(w) for w in words[:i]} - {None})
        )
        if table and rest:
            for target, strength in index.get(rest, ()):
                if target.table == table:
                    offer(target, strength * 0.97, f"header '{phrase}' = {word} + '{rest}'")
                elif head_dropped:
                    offer(target, strength * HEAD_DROPPED, f"header '{phrase}' = {rest} + '{word}', its last noun")
                elif target.references == table:
                    offer(target, strength * 0.9, f"header '{phrase}' names a {word} ({rest})")
                else:
                    # "transaction_qty" in a sales file: the quantity, whichever table the word names.
                    offer(target, strength * 0.8, f"header '{phrase}' = {word} + '{rest}'")
    # Containment: "Lineitem quantity" contains "quantity"; extra words weaken it.
    content = content_words(phrase)
    if len(content) > 1:
        for n in range(len(content) - 1, 0, -1):
            for start in range(0, len(content) - n + 1):
                sub = " ".join(content[start : start + n])
                for target, strength in index.get(sub, ()):
                    share = n / len(content)
                    offer(target, strength * (0.55 + 0.3 * share), f"header contains '{sub}'")
    # Fuzzy: typos and near-forms ("Rechungsdatum", "Quantitiy", "Customer_Nmae").
    for match, ratio, _ in process.extract(phrase, list(index), scorer=fuzz.ratio, limit=8, score_cutoff=82):
        if not _typo_of(phrase, match):
            continue
        for target, strength in index[match]:
            offer(target, strength * (ratio / 100) ** 2 * 0.9, f"header resembles '{match}' ({ratio:.0f}%)")
    return found


def _singular(phrase: str) -> str | None:
    """The phrase with its last word's regular English plural undone ("categories" → "category", "taxes" →
    "tax", "tags" → "tag"); None when the last word is no such plural."""
    *head, last = phrase.split()
    if len(last) > 4 and last.endswith("ies"):
        word = last[:-3] + "y"
    elif len(last) > 4 and last.endswith(("xes", "ches", "shes", "sses")):
        word = last[:-2]
    elif len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        word = last[:-1]
    else:
        return None
    return " ".join([*head, word])


KEY_SUFFIXES = frozenset({"id", "number", "code", "key", "ref", "no"})
HEAD_DROPPED = 0.68  # a header read without its last noun, which another entity word before it may own
_PRODUCTS, _LINES = "canonical_products", "canonical_order_lines"
_DOCUMENT_ITEMS = ("canonical_orders", "canonical_invoices")  # documents whose items are lines
TYPO = 70  # a word this close to the synonym's word is a typo of it ("quantitiy", "nmae"); "style" is no "type"


def _typo_of(phrase: str, match: str) -> bool:
    """Whether a fuzzy match is a misspelling, not another word: word for word, each word close to the
    synonym's ("product style" is not "product type", though the letters are 88% alike)."""
    mine, theirs = phrase.split(), match.split()
    if len(mine) != len(theirs) or len(mine) < 2:
        return True
    return all(fuzz.ratio(a, b) >= TYPO for a, b in zip(mine, theirs, strict=True))


BARE_STATUS = frozenset({"status", "state", "statut", "estado", "zustand", "stato"})


def value_fit(column: dict, target: Target, phrase: str = "") -> tuple[float, str]:
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
        required = TABLES_BY_NAME[target.table].column(target.column).required
        if required and kind in ("decimal", "integer") and column.get("min") == 0 and column.get("max") == 0:
            return 0.5, "every value is 0: no amount a row could carry"
        if kind == "decimal":
            if ttype == "money" and not _money_shaped(column):
                return 0.9, "values carry more than two decimals: a computed figure, not an amount charged"
            return 1.06, "values are numbers" + (f" ({column.get('locale')} format)" if column.get("locale") else "")
        if kind == "integer":
            if column.get("id_like") and column.get("unique"):
                return 0.6, ""
            if ttype == "money" and abs(_number(column.get("max"))) >= 100:
                # 1000 may be $1,000 or 1000 cents: the values alone cannot say, a person can (÷ 100).
                return 1.04, (
                    "values are whole numbers, never with cents: if the export writes money in cents, "
                    "add a divide by 100 step"
                )
            return 1.04, "values are numbers"
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
        if kind in ("text", "category") and _words_without_digits(column):
            # "Barry Gordon" names a person or company: it can find a customer by name, never be an id.
            looked_up = TABLES_BY_NAME[target.references or target.table].lookup_columns
            return (0.9, "values are names") if "name" in looked_up and target.references else (0.4, "")
        if kind == "email":
            return (1.0, "values are e-mail addresses (looked up by email)") if target.references else (0.7, "")
        if kind in ("decimal", "boolean"):
            return 0.3, ""
        if kind == "free_text":
            return 0.5, ""
        return 0.92, ""
    if col == "status" and kind in ("category", "text", "identifier"):
        # A status is one of a few workflow words; many distinct values none of which reads as a status
        # (54 state names) is something else whatever the header says.
        recognized = _status_map(column, target) or _known_statuses(column, target)
        if not recognized and column.get("distinct", 0) > 12:
            return 0.35, ""
        # Only when the values shown are all its values: "none of them" must be a claim about the column.
        shown_all = column.get("distinct", 0) <= len(column.get("top", []))
        # ... and the header says no more than "Status": whose status it is, the values must tell.
        if not recognized and shown_all and phrase in BARE_STATUS and vocabulary().status_synonyms.get(target.key):
            shown = ", ".join(_top_values(column)[:3])
            return UNKNOWN_STATUS, f"none of its values ({shown}) reads as a {_entity_label(target.table)} status"
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
        if _short_codes(column):
            return 0.3, "values are short upper-case codes, not names"
        if kind == "email":
            return 0.55, ""
        return 1.0, ""
    return 1.0, ""


UNKNOWN_STATUS = 0.45  # no value is a known status of the table: another thing's state (an account's, a sync)


def _entity_label(table: str) -> str:
    return table.removeprefix("canonical_").rstrip("s").replace("_", " ")


_SCIENTIFIC = re.compile(r"^[-+]?\d+(?:\.\d+)?[eE][-+]?\d+$")


def _money_shaped(column: dict) -> bool:
    """Whether most shown values are whole cents (a float's 346924.319999999 counts as 346924.32)."""
    values = [*_top_values(column), *column.get("samples", [])]
    numbers = []
    for text in values:
        if _SCIENTIFIC.match(text.strip()):
            numbers.append(float(text))  # a warehouse's float, "2.36E+01": 23.6
            continue
        cleaned = re.sub(r"[^\d.\-]", "", text.replace(",", "") if column.get("locale") != "de" else text)
        if column.get("locale") == "de":
            cleaned = re.sub(r"[^\d,\-]", "", text).replace(",", ".")
        try:
            numbers.append(float(cleaned))
        except ValueError:
            continue
    if not numbers:
        return True
    cents = sum(1 for n in numbers if abs(n * 100 - round(n * 100)) < 1e-4 * max(1.0, abs(n)))
    return cents >= 0.5 * len(numbers)


def _top_values(column: dict) -> list[str]:
    return [t["value"] for t in column.get("top", [])] or column.get("samples", [])


def _short_codes(column: dict) -> bool:
    """Values such as TX, CA, EUR: codes of two or three capitals."""
    values = _top_values(column)
    return bool(values) and all(len(v.strip()) <= 3 and v.strip().isalpha() and v.strip().isupper() for v in values)


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _words_without_digits(column: dict) -> bool:
    """Values that are words (with spaces) and carry no digit: names, not codes."""
    values = _top_values(column)
    return bool(values) and all(" " in v.strip() and not any(ch.isdigit() for ch in v) for v in values)


def transform_for(column: dict, target: Target) -> list[dict] | None:
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
    elif ttype in ("money", "number", "integer") and kind == "integer" and column.get("written_as"):
        steps.append({"op": "parse_number", "locale": "en"})  # 1 957 and 14911.0 are whole numbers
    elif column.get("written_as") == "float" and (target.column == "external_id" or target.references):
        # 14911.0 is the key 14911 that a spreadsheet wrote as a float: the key as other files write it.
        steps.append({"op": "split_part", "separator": ".", "index": 1})
    elif ttype == "boolean" and kind == "boolean":
        steps.append({"op": "parse_bool", "true_values": column["true_values"], "false_values": column["false_values"]})
    elif target.column == "email" and kind == "email":
        steps += [{"op": "trim"}, {"op": "lower"}]
    elif target.column == "status":
        mapping = _status_map(column, target)
        if mapping:
            steps.append({"op": "map_values", "map": mapping})
    return steps or None


def _known_statuses(column: dict, target: Target) -> list[str]:
    """The column's frequent values that already are statuses of the target (no mapping needed)."""
    table = vocabulary().status_synonyms.get(target.key) or {}
    return [t["value"] for t in column.get("top", []) if normalize_text(t["value"]).strip() in table]


def _status_map(column: dict, target: Target) -> dict[str, str]:

    table = vocabulary().status_synonyms.get(target.key)
    if not table:
        return {}
    mapping = {}
    for top in column.get("top_all", column.get("top", [])):
        value = top["value"]
        canonical = table.get(normalize_text(value).strip())
        if canonical and canonical != value:
            mapping[value] = canonical
    return mapping


_TIME_OF_DAY = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?$")


# Headers that name a row's key without naming its entity: the key of whichever table the file feeds.
GENERIC_KEYS = frozenset({"id", "key", "uuid", "record id", "object id", "row key"})


def writer_index(column: dict) -> bool:
    """An unnamed column numbering the rows 0, 1, 2 … (or 1, 2, 3 …) in order: the index a program (pandas)
    wrote beside the data, not a fact of the rows."""
    unnamed = not normalize_header(column.get("name", "")) or re.fullmatch(r"column\d+", column.get("name", ""))
    low, high, distinct = _number(column.get("min")), _number(column.get("max")), column.get("distinct") or 0
    return bool(
        unnamed
        and column.get("type") == "integer"
        and column.get("unique")
        and low in (0, 1)
        and high == low + distinct - 1
    )


def noise_reason(phrase: str, column: dict) -> str | None:
    if writer_index(column):
        return "an unnamed column numbering the rows 0, 1, 2 …: the index the exporting program wrote"
    words = set(phrase.split())
    if phrase in vocabulary().noise_headers:
        return f"'{phrase}' is bookkeeping, not a business fact"
    noisy = words & vocabulary().noise_words
    if noisy:
        return f"'{sorted(noisy)[0]}' columns are rarely business facts"
    if column.get("type") == "empty":
        return "column is empty"
    samples = [t["value"] for t in column.get("top", [])] or column.get("samples", [])
    if samples and all(_TIME_OF_DAY.match(v) for v in samples):
        return "a time of day without its date"
    return None


def score_columns(columns: list[dict]) -> dict[str, dict[Target, Evidence]]:
    scored: dict[str, dict[Target, Evidence]] = {}
    for column in columns:
        name = column["name"]
        phrase = normalize_header(name)
        header = _header_evidence(phrase)
        qualified = bool(set(phrase.split()) & vocabulary().address_qualifiers)
        planned = sorted(set(phrase.split()) & vocabulary().plan_words)
        noise = noise_reason(phrase, column) if column.get("type") != "empty" else None
        results: dict[Target, Evidence] = {}
        for target, ev in header.items():
            factor, why = value_fit(column, target, phrase)
            score = ev.score * factor
            if qualified and target.column in ("name", "city", "country", "phone", "email"):
                score *= 0.6  # "Ship City" is where a parcel went, not the customer's city
            if noise:
                score *= 0.5
            if planned and target.type in ("date", "timestamp") and target.column != "due_date":
                score *= 0.5
                why = (f"{why}; " if why else "") + f"'{planned[0]}': a planned date, not one that happened"
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


def the_one_amount(
    scored: dict[str, dict], *, column: str, target: Target, score: float, why: str, not_money, evidence_cls
) -> None:
    """`column` is the rows' amount (`target`, at least `score`); the columns in `not_money` (a balance, a fee, the
    other side of a pair) lose every money target (in place)."""
    for name in not_money:
        evidence = scored.get(name) or {}
        for other in list(evidence):
            if TABLES_BY_NAME[other.table].column(other.column).type == "money":
                evidence.pop(other)
    evidence = scored.setdefault(column, {})
    if target not in evidence or evidence[target].score < score:
        evidence[target] = evidence_cls(target, score, why)


def calibrate(score: float) -> float:
    """Raw evidence → confidence. Measured on the evaluation set: exact synonyms with fitting values are
    right nearly always (≥ 0.9), containment/fuzzy-only matches about two times in three."""
    if score >= 0.9:
        return min(0.99, 0.9 + (score - 0.9) * 0.8)
    if score >= 0.75:
        return 0.75 + (score - 0.75) * 1.0
    return score * 0.95


def unmapped_confidence(evidence: dict[Target, Evidence]) -> float:
    best = max((e.score for e in evidence.values()), default=0.0)
    return round(max(0.3, 0.9 - best), 3)


NO_MATCH = "no canonical column matches this header or its values"


def unmapped_reason(evidence: dict[Target, Evidence], selected: list[str]) -> str:
    if not evidence:
        return NO_MATCH
    best = max(evidence.values(), key=lambda e: e.score)
    if best.target.table not in selected:
        return f"closest: {best.target.key} ({best.reason}), but this file does not feed {best.target.table}"
    if best.score < MIN_SCORE:
        return f"weak evidence only: {best.target.key} ({best.reason})"
    return f"{best.target.key} is taken by a column with stronger evidence"
