"""Nothing in the file is lost: the columns no canonical column takes are proposed as attributes.

After the proposer (and the LLM's review) chose the canonical columns, every column left unmapped is proposed
as an attribute of the table at the file's grain (the deepest table the file feeds: a lines file's lines, an
orders file's orders), typed from its profile: booleans, dates with a decided format, numbers (not
identifiers: a postal code stays text), else text; text too when the whole file has values that do not read as
the column's type, so keeping a column never refuses a row. Left out: empty columns, columns that already feed
another target (a line number concatenated into a key), and columns flagged as personal data, which are kept
only when the user chooses "Keep as attribute" on the review page. A key registered with another type
(canonical_attribute_keys) is read as text when it is text there, else the column takes a key of its own.
"""

from __future__ import annotations

from canonical.attributes import PREFIX, attribute_key, attribute_key_free
from canonical.schema import TABLE_ORDER

# Keeping a column as it is needs no guess about where it goes: above the --auto threshold, below the
# confidence of a header-and-values match.
ATTRIBUTE_CONFIDENCE = 0.8


def attribute_table(proposals: list[dict]) -> str | None:
    """The table whose rows the file's rows are: the deepest canonical table a proposal fills."""
    tables = {p["canonical_table"] for p in proposals if p.get("canonical_table") and p.get("canonical_col")}
    return max(tables, key=TABLE_ORDER.index) if tables else None


def attribute_reading(column: dict) -> tuple[str, list[dict] | None]:
    """(attribute type, transform) for a profiled column: its null tokens blanked, then read as its type."""
    steps: list[dict] = []
    nulls = [t for t in column.get("null_tokens", []) if t.strip()]
    if nulls:
        steps.append({"op": "map_values", "map": dict.fromkeys(nulls)})
    kind = column.get("type")
    if column.get("unreadable"):
        # Some of the file's values do not read as the type (profiling/figures.py): as text, no row is refused
        # for a column nobody asked to load.
        return "text", steps or None
    decided = not (column.get("date_evidence") or {}).get("undecided")
    if kind == "boolean" and column.get("true_values"):
        steps.append({"op": "parse_bool", "true_values": column["true_values"], "false_values": column["false_values"]})
        return "boolean", steps
    if kind == "date" and column.get("format") and decided:
        steps.append({"op": "parse_date", "format": column["format"]})
        return "date", steps
    if (kind == "integer" and not column.get("id_like")) or kind == "decimal":
        steps.append({"op": "parse_number", "locale": column.get("locale") or "en"})
        return "number", steps
    return "text", steps or None


def keep_as_attributes(*, proposals: list[dict], profile: dict, registered: dict[tuple[str, str], str]) -> list[dict]:
    """`proposals` (the contract's shape) with every unmapped column that may be kept proposed as an attribute
    (see the module docstring); `registered`: {(table, key): type} of the attributes registry."""
    table = attribute_table(proposals)
    if table is None:
        return proposals
    columns = {c["name"]: c for c in profile.get("columns", [])}
    used = {p["source_col"] for p in proposals if p.get("canonical_table")}
    for p in proposals:
        for step in p.get("transform") or []:
            used.update(step.get("columns") or [])
    taken = {attribute_key(p["canonical_col"]) for p in proposals if p.get("canonical_table") == table}
    item_of = _varies_within_key(proposals, profile, table)
    kept = []
    for p in proposals:
        name = p.get("source_col")
        column = columns.get(name or "")
        if p.get("canonical_table") or not name or name in used or column is None or column.get("type") == "empty":
            kept.append(p)
            continue
        if name in item_of:
            # An item's value where the table's key repeats over its items (an invoice's Item Name): kept on
            # the table it would hold the last item's value only, and merge rows that are one invoice.
            reason = f"{p['reason']}; varies within '{item_of[name]}': a value of each item, which no table holds"
            kept.append({**p, "reason": reason})
            continue
        if column.get("pii"):
            reason = f"{p['reason']}; personal data ({column['pii'].get('kind')}): kept only if you choose to keep it"
            kept.append({**p, "reason": reason})
            continue
        kind, steps = attribute_reading(column)
        key = attribute_key_free(table, name, taken)
        known = registered.get((table, key))
        if known == "text" and kind != "text":
            kind, steps = "text", [s for s in steps or [] if s["op"] == "map_values"] or None
        elif known is not None and known != kind:
            # The key holds another type from earlier files: this column keeps its values under a key of its own.
            conflicting = {k for (t, k), v in registered.items() if t == table and v != kind}
            key = attribute_key_free(table, name, taken | conflicting)
        taken.add(key)
        kept.append(
            {
                **p,
                "canonical_table": table,
                "canonical_col": f"{PREFIX}{key}",
                "transform": steps,
                "confidence": ATTRIBUTE_CONFIDENCE,
                "reason": f"kept as a {kind} attribute of {table}: no canonical column holds it ({p['reason']})",
            }
        )
    return kept


def _varies_within_key(proposals: list[dict], profile: dict, table: str) -> dict[str, str]:
    """{column: key} for the columns that take several values within one value of `table`'s key, when that
    key repeats in the file (items printed below their invoice): such a column is none of the table's."""
    keys = (profile.get("grain") or {}).get("keys") or {}
    key = next(
        (
            p["source_col"]
            for p in proposals
            if p.get("canonical_table") == table
            and p.get("canonical_col") == "external_id"
            and not any(step.get("op") == "concat" for step in p.get("transform") or [])
        ),
        None,
    )
    evidence = keys.get(key or "")
    if not evidence or evidence["unique"]:
        return {}
    constant = set(evidence["determines"]) | set(evidence.get("nearly") or {})
    return {c["name"]: key for c in profile.get("columns", []) if c["name"] != key and c["name"] not in constant}
