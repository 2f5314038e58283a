"""The whole-file gate of `ingest --auto`: load only what a careful person would load unseen.

A file passes when every required column of the tables it feeds is filled by a confident proposal
whose values were checked, no proposed key collapses rows, and no date reading is left to a guess.
Otherwise nothing is written and each column that needs a person is listed with why.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from canonical.attributes import attribute_key
from canonical.schema import TABLE_ORDER, TABLES_BY_NAME
from mappings.proposer.attributes import keep_as_attributes
from mappings.proposer.calibration import ONE_KIND, _codes
from mappings.proposer.ledger import read_ledger
from mappings.proposer.scoring import KEY_SUFFIXES, _top_values
from mappings.proposer.tables import missing_required_targets
from mappings.proposer.text import normalize_header

MIN_KEY_ROWS = 20  # uniqueness over fewer rows than this could be chance: it earns no key
_VARIES = re.compile(r"varies within '[^']+': a value of each item, not of the [a-z ]+")


@dataclass(frozen=True)
class NeedsReview:
    source_col: str | None
    target: str | None  # "table.column"
    problem: str

    def as_json(self) -> dict:
        table, _, col = (self.target or "").partition(".")
        return {
            "source_col": self.source_col,
            "canonical_table": table or None,
            "canonical_col": col or None,
            "problem": self.problem,
        }

    def line(self) -> str:
        where = f"'{self.source_col}'" if self.source_col else (self.target or "the file")
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class LeftOut:
    """A table the file mentions but cannot fill confidently, left out of what `--auto` loads."""

    table: str
    missing: tuple[str, ...]  # its required columns no confident proposal fills
    columns: tuple[str, ...]  # the file's columns proposed for it
    kept_on: str | None  # the table that keeps them as attributes (the file's own)
    kept: tuple[str, ...]  # those kept as attributes (not personal data, not already loaded elsewhere)

    def as_json(self) -> dict:
        return {
            "canonical_table": self.table,
            "missing": list(self.missing),
            "columns": list(self.columns),
            "kept_as_attributes_of": self.kept_on,
            "kept": list(self.kept),
        }

    def line(self) -> str:
        kept = ", ".join(f"'{c}'" for c in self.kept)
        rest = ", ".join(f"'{c}'" for c in self.columns if c not in self.kept)
        return (
            f"{self.table} left out: {', '.join(self.missing)} not filled by a confident proposal"
            + (f"; {kept} kept as attributes of {self.kept_on}" if kept else "")
            + (f"; {rest} not loaded for it" if rest else "")
            + "; a person can map them on the review page"
        )


@dataclass(frozen=True)
class AutoDecision:
    fields: list[dict]  # what --auto loads (empty when refused)
    problems: list[NeedsReview]  # why it refuses (empty when it loads)
    left_out: list[LeftOut]


def _referred_entity(table: str) -> bool:
    """A table of things the rows refer to by key or name (customers, products, suppliers, employees): a
    reference creates its rows when the file gives none of their facts, unlike a document above the rows (an
    order carries its lines' date and total)."""
    spec = TABLES_BY_NAME[table]
    return "name" in spec.column_names and "external_id" in spec.column("name").filled_by


def auto_decision(
    *, proposals: list[dict], profile: dict, threshold: float, registered: dict | None = None
) -> AutoDecision:
    """What `ingest --auto` does with a proposal. The file's own table (the deepest it feeds) and the documents
    above it must pass the gate in full; an entity the rows refer to whose required facts no confident proposal
    fills (a customer's country and segment in an orders file, but neither the customer's name nor key) is
    left out rather than refusing the file: its columns are kept as attributes of the file's own table, the
    rows still reference the entity by key where the file gives one, and the report names what was left out."""
    accepted = auto_accepted(proposals=proposals, profile=profile, threshold=threshold)
    problems = auto_gate(proposals=proposals, accepted=accepted, profile=profile, threshold=threshold)
    if not problems:
        return AutoDecision(accepted, [], [])
    primary = _primary_table(accepted)
    unfilled = {t.split(".")[0] for t in missing_required_targets(accepted)}
    parents = sorted(t for t in unfilled if t != primary and _referred_entity(t))
    if not parents:
        return AutoDecision([], problems, [])
    kept = [f for f in accepted if f["canonical_table"] not in parents]
    rest = auto_gate(proposals=proposals, accepted=kept, profile=profile, threshold=threshold)
    if rest:
        return AutoDecision([], problems, [])  # refused anyway: every question, the parents' too
    loaded = {f["source_col"] for f in kept}
    dropped = [f for f in accepted if f["canonical_table"] in parents]
    loose = [
        {"source_col": name, "canonical_table": None, "canonical_col": None, "confidence": 0.0, "transform": None}
        for name in dict.fromkeys(f["source_col"] for f in dropped if f["source_col"] and f["source_col"] not in loaded)
    ]
    for p in loose:
        p["reason"] = "its table is left out of --auto"
    names = {p["source_col"] for p in loose}
    kept_as = keep_as_attributes(proposals=kept + loose, profile=profile, registered=registered or {})
    added = [a for a in kept_as if a["source_col"] in names and a.get("canonical_table")]
    left_out = []
    for table in parents:
        mine = [f["source_col"] for f in dropped if f["canonical_table"] == table and f["source_col"]]
        left_out.append(
            LeftOut(
                table=table,
                missing=tuple(t.split(".")[1] for t in missing_required_targets(accepted) if t.startswith(table + ".")),
                columns=tuple(mine),
                kept_on=primary,
                kept=tuple(a["source_col"] for a in added if a["source_col"] in mine),
            )
        )
    return AutoDecision(kept + added, [], left_out)


def auto_accepted(*, proposals: list[dict], profile: dict, threshold: float) -> list[dict]:
    """The proposals `--auto` loads: those at or above the threshold, and those the whole file confirms
    where the file would otherwise be refused (`confirmed_by_file`)."""
    accepted = [
        p
        for p in proposals
        if p.get("canonical_table") and p.get("canonical_col") and (p.get("confidence") or 0) >= threshold
    ]
    return accepted + confirmed_by_file(proposals=proposals, accepted=accepted, profile=profile, threshold=threshold)


def confirmed_by_file(*, proposals: list[dict], accepted: list[dict], profile: dict, threshold: float) -> list[dict]:
    """Proposals under the threshold that a required column of the file's table waits for, when the whole file
    backs them beyond the one kind of evidence that proposed them. Today one reading: the rows' own key,
    the only key-like column unique and filled on every row of a file of some length, its values codes or
    numbers (not words): the table's key, and through it what the key fills (a product's name)."""
    missing = set(missing_required_targets(accepted))
    # Columns kept as attributes follow the table the rest chose: they never say what the rows are, so a file
    # whose only accepted columns are attributes has no table for its key to confirm.
    chosen = [p for p in accepted if attribute_key(p.get("canonical_col") or "") is None]
    if not chosen or not missing:
        return []
    primary = _primary_table(chosen)
    columns = {c["name"]: c for c in profile.get("columns", [])}
    grain = profile.get("grain") or {}
    used = {f["source_col"] for f in accepted}
    keys = [
        p
        for p in proposals
        if p.get("canonical_table") == primary and p.get("canonical_col") == "external_id" and p not in accepted
    ]
    confirmed = []
    for p in keys:
        name = p.get("source_col")
        if len(keys) > 1 or not name or name in used or p.get("transform") or (p.get("confidence") or 0) < ONE_KIND:
            continue  # two candidates for the key, or a guess the values already doubt: a person decides
        if not set(missing_required_targets([*accepted, p])) < missing:
            continue
        why = _row_key(name, columns, grain)
        if why:
            confirmed.append({**p, "reason": f"{p['reason']}; confirmed by the whole file: {why}"})
    return confirmed


def _row_key(name: str, columns: dict[str, dict], grain: dict) -> str:
    """Why `name` is the rows' own key by its values over the whole file ("" when it is not)."""
    rows = grain.get("rows") or 0
    keys = grain.get("keys") or {}

    def keys_rows(column: str) -> bool:
        key = keys.get(column) or {}
        return bool(key.get("unique")) and key.get("nonnull") == rows and _coded(columns.get(column) or {})

    if grain.get("row_key") != [name] or rows < MIN_KEY_ROWS or not keys_rows(name):
        return ""
    if any(keys_rows(other) for other in keys if other != name):
        return ""  # two columns of codes key the rows: which one is the table's key is a person's choice
    return f"the only column of codes unique and filled on each of the {rows} rows: each row's key"


_CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")


def _coded(column: dict) -> bool:
    """Codes or numbers, not words (unique words are names or descriptions) nor times of day (a clock reading
    differs on every row of a short file and keys nothing)."""
    if any(_CLOCK.fullmatch(v.strip()) for v in _top_values(column)):
        return False
    return column.get("type") in ("identifier", "integer") or _codes(column)


def auto_gate(*, proposals: list[dict], accepted: list[dict], profile: dict, threshold: float) -> list[NeedsReview]:
    """What stops `--auto` from loading this file unseen (empty: it may load)."""
    problems: list[NeedsReview] = []
    columns = {c["name"]: c for c in profile.get("columns", [])}
    grain = profile.get("grain") or {}
    keys = grain.get("keys") or {}
    if all(attribute_key(p.get("canonical_col") or "") is not None for p in accepted):
        # Which facts of the tables the proposal reads the file as are left to a person, column by column
        # (columns kept as attributes of a table no column chose are no reading of the file).
        tables = {p["canonical_table"] for p in proposals if p.get("canonical_table") in TABLES_BY_NAME}
        wanted = [
            f"{t}.{c}" for t in sorted(tables, key=TABLE_ORDER.index) for c in TABLES_BY_NAME[t].missing_required(set())
        ]
        nothing = NeedsReview(None, None, f"no column is mapped with confidence ≥ {threshold:g}" + _closest(proposals))
        return [nothing, *_required_missing(wanted, proposals, accepted, threshold, columns)]
    ledger = read_ledger(profile.get("columns", []), grain.get("rows") or profile.get("rows_profiled") or 0)
    if ledger:
        # Every row loaded would count each transaction once per account it touches.
        problems.append(NeedsReview(ledger.debit, None, ledger.reason() + ": which postings to load needs a person"))
    problems += _required_missing(missing_required_targets(accepted), proposals, accepted, threshold, columns)
    for field in accepted:
        name, table, col = field["source_col"], field["canonical_table"], field["canonical_col"]
        column = columns.get(name) or {}
        target = f"{table}.{col}"
        if attribute_key(col) is not None:
            continue  # an attribute keeps the column as the profile read it (proposer/attributes.py)
        kind = TABLES_BY_NAME[table].column(col).type
        if kind in ("date", "timestamp"):
            evidence = column.get("date_evidence") or {}
            if column.get("type") not in ("date", "datetime"):
                problems.append(NeedsReview(name, target, "its values are not dates the profile could read"))
            elif evidence.get("undecided"):
                problems.append(
                    NeedsReview(
                        name,
                        target,
                        "day and month could be either way round: "
                        + evidence.get("reason", "")
                        + "; --date-order dmy or mdy (or the review page's date order) decides it",
                    )
                )
        if col == "external_id" and name in keys and not _is_own_transform(field):
            key = keys[name]
            primary = accepted and _primary_table(accepted)
            # A key repeated on the items below it merges nothing when the table's other columns are
            # constant within it (an invoice's fields on each of its lines): those rows are one invoice.
            others = [f["source_col"] for f in accepted if f["canonical_table"] == table and f["source_col"] != name]
            differing = [o for o in others if o not in key["determines"]]
            if table == primary and not key["unique"] and (differing or not others):
                shown = ", ".join(f"'{o}'" for o in differing[:3])
                problems.append(
                    NeedsReview(
                        name,
                        target,
                        f"not unique ({key['distinct']} values on {key['nonnull']} rows)"
                        + (f" and rows sharing a value differ in {shown}" if shown else "")
                        + ": as the key it would merge rows",
                    )
                )
    return problems


_TABLE_NAMED = re.compile(r"\b(canonical_[a-z_]+)\.")


def _closest(proposals: list[dict]) -> str:
    """The question when no column is mapped: which table the rows feed, with the one the columns came closest
    to (named in the reasons of the columns left unmapped)."""
    near = Counter(
        t for p in proposals if not p.get("canonical_table") for t in set(_TABLE_NAMED.findall(p.get("reason") or ""))
    )
    if not near:
        return ": which table these rows feed, if any, needs a person"
    table, count = near.most_common(1)[0]
    columns = "1 column" if count == 1 else f"{count} columns"
    return (
        f": {columns} came closest to {table} without fitting it; which table these rows feed, if any, needs a person"
    )


def _required_missing(
    targets: list[str], proposals: list[dict], accepted: list[dict], threshold: float, columns: dict[str, dict]
) -> list:
    """Per required "table.column" no accepted proposal fills: the column proposed for it below the threshold,
    or that no column fills it (and the column that looked like it but is not, and why)."""
    problems: list[NeedsReview] = []
    offered = {f.get("source_col") for f in accepted}
    for target in targets:
        table, col = target.split(".")
        near = next(
            (
                p
                for p in proposals
                if p.get("canonical_table") == table and p.get("canonical_col") == col and p not in accepted
            ),
            None,
        )
        if near:
            problems.append(
                NeedsReview(
                    near["source_col"],
                    target,
                    f"required {target} only proposed at confidence {near['confidence']:.2f} (< {threshold:g})"
                    # A computed proposal has no column to look at: its reason is what the person needs.
                    + ("" if near["source_col"] else f": {near['reason']}"),
                )
            )
        else:
            # The column that looked like it but is not, and why ("'Line Total' varies within 'Invoice #'").
            why = next(
                (
                    f" ('{p['source_col']}' {_VARIES.search(p['reason']).group(0)})"
                    for p in proposals
                    if not p.get("canonical_table")
                    and f".{col} (" in (p.get("reason") or "")
                    and _VARIES.search(p["reason"])
                ),
                "",
            )
            problems.append(
                NeedsReview(
                    None,
                    target,
                    f"required {target}: no column of the file fills it{why or _could_be(target, offered, columns)}",
                )
            )
    return problems


_FITS = {"money": ("decimal", "integer"), "number": ("integer", "decimal"), "date": ("date", "datetime")}
_FITS["timestamp"] = _FITS["date"]
MAX_CANDIDATES = 3  # more unmapped columns of the type than this: the question is the mapping itself


def _could_be(target: str, used: set, columns: dict[str, dict]) -> str:
    """The question for the person when no proposal names the target: which of the few columns left unmapped
    whose values could hold it does ("'Cost' (whole numbers: in cents?)"); "" when none or too many. `used`:
    the columns mapped or already offered for another target (grows)."""
    table, col = target.split(".")
    fits = _FITS.get(TABLES_BY_NAME[table].column(col).type, ())
    left = [
        c
        for name, c in columns.items()
        if name not in used
        and c.get("type") in fits
        and (c.get("distinct") or 0) > 1  # one value on every row tells no row from another
        and not (c.get("type") == "integer" and c.get("unique"))  # numbers each row once: an index
        and normalize_header(name).split()[-1:] not in ([w] for w in KEY_SUFFIXES)  # "ProductKey": a code
    ]
    used.update(c["name"] for c in left)
    if not left or len(left) > MAX_CANDIDATES:
        return ""
    cents = fits[0] == "decimal" and TABLES_BY_NAME[table].column(col).type == "money"
    shown = ", ".join(
        f"'{c['name']}'" + (" (whole numbers: in cents?)" if cents and c["type"] == "integer" else "") for c in left
    )
    return f"; could it be {shown}? A person says which column holds it, if any"


def _is_own_transform(field: dict) -> bool:
    """A key built from several columns (concat) is checked by the execution, not here."""
    return any(step.get("op") == "concat" for step in field.get("transform") or [])


def _primary_table(accepted: list[dict]) -> str | None:
    """The table whose rows the file's rows are: the deepest table it feeds (lines below orders…)."""
    tables = {f["canonical_table"] for f in accepted}
    return max(tables, key=TABLE_ORDER.index) if tables else None
