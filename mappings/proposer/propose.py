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

from pathlib import Path

from mappings.proposer.assign import Proposal, assign, name_concat, reference_duplicates, reference_fallback
from mappings.proposer.scoring import (
    Target,
    calibrate,
    noise_reason,
    score_columns,
    transform_for,
    unmapped_confidence,
    unmapped_reason,
)
from mappings.proposer.tables import hinted_table, select_tables, table_scores
from mappings.proposer.text import normalize_header


def _learned(user_learned: dict[str, dict], name: str) -> dict | None:
    return user_learned.get(name) or user_learned.get(normalize_header(name))


def propose_from_profile(
    *, file: str, profile: dict, dialect: dict, domain_hint: str | None = None, learned: dict | None = None
) -> dict:
    """The contract's proposal document for a profiled file (see mapping_propose)."""
    columns = profile["columns"]
    learned = learned or {}
    scored = score_columns(columns)
    hints = [h for h in (domain_hint, Path(file).stem) if h]
    totals = table_scores(scored, hints)
    hinted = hinted_table(domain_hint)
    selected = select_tables(scored, totals, hinted)
    # A learned mapping applies where this file goes: "name" once mapped to customers says nothing
    # about a products file.
    learned = {k: v for k, v in learned.items() if v.get("canonical_table") in selected and v.get("canonical_col")}
    assigned, _ = assign(columns, scored, selected)
    specials = name_concat(columns, assigned, selected)
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
            confidence = calibrate(ev.score)
            proposals.append(Proposal(name, ev.target, confidence, ev.reason, transform_for(column, ev.target)))
            taken_targets.add(ev.target)
        else:
            phrase = normalize_header(name)
            why = noise_reason(phrase, column) or unmapped_reason(scored[name], selected)
            proposals.append(Proposal(name, None, unmapped_confidence(scored[name]), why))
    reference_fallback(proposals, scored, selected, taken_targets)
    proposals += reference_duplicates(proposals, selected, by_name, taken_targets)
    order = {c["name"]: i for i, c in enumerate(columns)}
    proposals.sort(key=lambda p: order.get(p.source_col, len(order)))
    return {
        "file": file,
        "rows": profile.get("rows") if profile.get("rows") is not None else profile.get("rows_profiled"),
        "dialect": {k: v for k, v in dialect.items() if k in ("delimiter", "quote", "encoding", "header")},
        "proposals": [p.as_json() for p in proposals],
    }
