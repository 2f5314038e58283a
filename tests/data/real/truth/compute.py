"""Ground truth for the real-file corpus, computed without the product (no Django, no project import).

Reads MANIFEST.toml (which files, split, group) and truth/spec.toml (the per-column targets and the
measures, written by hand), reads every file with the csv module or python-calamine, and writes one
truth/<file>.json per file: the column targets (every column, null where nothing fits), the data row
count, the count of each entity, the money total and, where the file carries revenue, revenue per year.

    .venv/bin/python tests/data/real/truth/compute.py          # rewrites truth/*.json
    .venv/bin/python tests/data/real/truth/compute.py --check  # exits 1 if a JSON is out of date
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import tomllib
from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent


def read_table(path: Path, how: dict) -> tuple[list[str], list[list]]:
    """The header and the data rows, as the file holds them (strings for text files, cells for Excel)."""
    if path.suffix.lower() in {".xls", ".xlsx", ".ods"}:
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(how["sheet"])
        rows = sheet.to_python(skip_empty_area=False)
        while rows and all(c in ("", None) for c in rows[-1]):
            rows.pop()
        rows = rows[how.get("header_line", 1) - 1 :]
        header = [str(c) for c in rows[0]]
        return header, _records([list(r) for r in rows[1:]], header, how)
    text = path.read_bytes().decode(how.get("encoding", "utf-8"))
    # skipinitialspace: a file padded with spaces (', "a, b", 170') still quotes its fields.
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=how.get("sep", ","),
        skipinitialspace=how.get("skipinitialspace", False),
    )
    rows = list(reader)
    skip = how.get("header_line", 1) - 1
    rows = rows[skip:]
    header = rows[0]
    data = [r for r in rows[1:] if any(c.strip() for c in r)]
    return header, _records(data, header, how)


def _records(rows: list[list], header: list[str], how: dict) -> list[list]:
    """The rows that are records, as an analyst reads them: `skip_repeated_header` drops the header printed
    again inside the data (files concatenated by a tool); `only_key_is_no_record` names columns that alone do
    not make a record (a row with nothing but an order id in it is padding, not an order); `record_requires` names
    columns every record fills (a statement's balance, total and disclaimer rows have no transaction id); `not_records`
    maps a column to the values that mark a row as no record (a sub-header, a balance line)."""
    if how.get("skip_repeated_header"):
        rows = [r for r in rows if [str(c).strip() for c in r] != [h.strip() for h in header]]
    required = how.get("record_requires")
    if required:
        at = {h: i for i, h in enumerate(header)}
        rows = [r for r in rows if all(at[h] < len(r) and str(r[at[h]]).strip() for h in required)]
    not_records = how.get("not_records")
    if not_records:
        at = {h: i for i, h in enumerate(header)}
        rows = [
            r
            for r in rows
            if not any(at[h] < len(r) and str(r[at[h]]).strip() in values for h, values in not_records.items())
        ]
    keys = how.get("only_key_is_no_record")
    if keys:
        at = {h: i for i, h in enumerate(header)}
        rest = [i for h, i in at.items() if h not in keys]
        rows = [r for r in rows if any(i < len(r) and str(r[i]).strip() for i in rest)]
    return rows


def to_decimal(value, decimal_mark: str = ".") -> Decimal | None:
    """'$13.50 ' -> 13.50, '($400.00)' -> -400.00, '1,020.00' -> 1020.00, '13,25' (decimal comma) -> 13.25,
    '3.76E+02' -> 376."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    text = str(value).strip()
    if re.fullmatch(r"[-+]?\d+(\.\d+)?[eE][-+]?\d+", text):  # a connector's '3.76E+02'
        return Decimal(text)
    negative = text.startswith("(") and text.endswith(")")
    text = re.sub(r"[^\d,.\-]", "", text)
    thousands = "." if decimal_mark == "," else ","
    text = text.replace(thousands, "").replace(decimal_mark, ".")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return -number if negative else number


def cents(value: Decimal) -> str:
    """Spreadsheets store floats (346924.319999999): the truth is the sum, rounded once to the cent."""
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def year_of(value, fmt: str) -> int | None:
    if value in (None, ""):
        return None
    if fmt == "excel":
        if isinstance(value, (date, datetime)):
            return value.year
        raise ValueError(f"expected a date cell, got {value!r}")
    return datetime.strptime(str(value).strip(), fmt).year


def looked_up(header: list[str], rows: list[list], lookup: dict, specs: dict) -> tuple[list[str], list[list]]:
    """The rows with columns of another file of the dataset joined in by key, as an analyst prices sales lines
    from the price list: `lookup = { file, key (its column), ref (this file's column), columns }`. Values are
    read as that file's decimals and written with a point; a row whose key the other file lacks gets "" (no
    amount, so no revenue)."""
    how = specs[lookup["file"]].get("read", {})
    other_header, other_rows = read_table(CORPUS / lookup["file"], how)
    at = {h: i for i, h in enumerate(other_header)}
    table = {}
    for r in other_rows:
        values = [to_decimal(r[at[c]], how.get("decimal", ".")) for c in lookup["columns"]]
        table[str(r[at[lookup["key"]]]).strip()] = ["" if v is None else str(v) for v in values]
    ref = header.index(lookup["ref"])
    blank = [""] * len(lookup["columns"])
    return header + lookup["columns"], [r + table.get(str(r[ref]).strip(), blank) for r in rows]


def compute(name: str, entry: dict, spec: dict, specs: dict | None = None) -> dict:
    how = spec.get("read", {})
    header, rows = read_table(CORPUS / name, how)
    if spec.get("lookup"):
        header, rows = looked_up(header, rows, spec["lookup"], specs or {})
    col = {h: i for i, h in enumerate(header)}

    def cell(row: list, column: str):
        i = col[column]
        return row[i] if i < len(row) else ""

    targets = spec.get("columns", {})
    # Columns joined from another file are the measure's, not the file's: they get no target.
    own = header[: len(header) - len((spec.get("lookup") or {}).get("columns", []))]
    unknown = sorted(set(targets) - set(own))
    if unknown:
        raise SystemExit(f"{name}: spec names columns the file does not have: {unknown}")
    columns = {h: ([None if t == "" else t for t in targets[h]] if h in targets else None) for h in own}

    def factor(row: list, part: str, decimal_mark: str) -> Decimal | None:
        """A column's value; `1-COL` (no such column) is one minus it: a line priced net of a discount rate."""
        if part not in col and part.startswith("1-") and part[2:] in col:
            rate = to_decimal(cell(row, part[2:]), decimal_mark)
            return None if rate is None else 1 - rate
        return to_decimal(cell(row, part), decimal_mark)

    entities = {}
    for entity, column in spec.get("entities", {}).items():
        if column == "*rows":
            entities[entity] = len(rows)
        elif column == "*distinct_rows":
            entities[entity] = len({tuple(str(c).strip() for c in r) for r in rows})
        else:
            entities[entity] = len({str(cell(r, column)).strip() for r in rows if str(cell(r, column)).strip()})

    money_total = None
    revenue = None
    lines_per_year: dict[str, int] = {}
    measure = spec.get("money")
    if measure:
        decimal_mark = how.get("decimal", ".")
        seen_keys: set[str] = set()
        total = Decimal(0)
        by_year: dict[str, Decimal] = defaultdict(Decimal)
        rev = spec.get("revenue")
        for r in rows:
            if any(str(cell(r, k)).strip() != v for k, v in measure.get("where", {}).items()):
                continue
            if any(str(cell(r, k)).strip() not in vs for k, vs in measure.get("where_in", {}).items()):
                continue
            if "per" in measure:
                key = str(cell(r, measure["per"])).strip()
                if key in seen_keys:
                    continue
                seen_keys.add(key)
            factors = [factor(r, part, decimal_mark) for part in measure["amount"].split("*")]
            if any(f is None for f in factors):
                continue
            amount = Decimal(1)
            for f in factors:
                amount *= f
            amount *= Decimal(str(measure.get("scale", "1")))
            total += amount
            if rev:
                when = cell(r, rev["date"])
                # no_date: markers a dirty export writes in the date column ('ERROR'): the sale's year is unknown.
                year = None if str(when).strip() in rev.get("no_date", []) else year_of(when, rev["format"])
                if year is None and amount == 0:
                    continue
                bucket = str(year) if year is not None else "unknown"
                by_year[bucket] += amount
                lines_per_year[bucket] = lines_per_year.get(bucket, 0) + 1
        money_total = cents(total)
        if rev:
            revenue = {y: cents(v) for y, v in sorted(by_year.items())}

    return {
        "file": name,
        "split": entry["split"],
        "group": entry.get("group"),
        "order": entry.get("order"),
        "rows": len(rows),
        "columns": columns,
        "entities": entities,
        "money_column": measure["amount"] if measure else None,
        "money_total": money_total,
        "revenue_kind": spec["revenue"]["kind"] if spec.get("revenue") else None,
        "revenue_per_year": revenue,
        "lines_per_year": lines_per_year or None,
    }


def main(argv: list[str]) -> int:
    manifest = tomllib.loads((CORPUS / "MANIFEST.toml").read_text())["files"]
    specs = tomllib.loads((HERE / "spec.toml").read_text())["files"]
    missing = sorted(set(manifest) - set(specs))
    if missing:
        raise SystemExit(f"no truth spec for: {missing}")
    stale = []
    for name, entry in manifest.items():
        truth = compute(name, entry, specs[name], specs)
        text = json.dumps(truth, indent=1, ensure_ascii=False) + "\n"
        out = HERE / f"{name}.json"
        if "--check" in argv:
            if not out.exists() or out.read_text() != text:
                stale.append(name)
        else:
            out.write_text(text)
    if stale:
        print("out of date:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
