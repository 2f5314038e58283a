"""Where a table's header is: exports often start with a title, a date line and a blank line above it.

The same evidence decides for CSV files and workbook sheets (their cells rendered as text first): the
header row is the first row whose cells are all non-empty, distinct text, whose rows above are sparse (a
title, a date, blank lines), and whose following rows have its width and values that are not all text (at
least a quarter numbers, amounts, dates). Without such evidence the header is the first row.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Sequence
from pathlib import Path

from mappings.intake.dialect import decode_errors, python_codec

SCAN_ROWS = 30  # rows looked at for a header below the first one
FOLLOWING_ROWS = 10  # rows under a candidate header that must look like its data
# The share of a candidate's data cells that must not be text: a customer list under a title has a code, a
# name and one date per row; a second header row under the first has none.
NON_TEXT_SHARE = 0.25
DISTINCT_SHARE = 0.9  # of a header's names that must differ

_NUMBER = re.compile(r"^[\s(+\-]*[$€£¥₹]?\s*[+\-]?(\d[\d,.' ]*)?\d\s*[%$€£¥₹)]?\s*$")
_DATE = re.compile(
    r"^(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?.*)?|\d{4}[-/.]\d{1,2}|\d{1,2}[-/.]\d{4})$"
)
_BOOL = {"true", "false", "yes", "no"}


def is_text(value: str) -> bool:
    """A non-empty value that is neither a number, an amount, a percentage, a date nor a boolean."""
    value = value.strip()
    if not value:
        return False
    return not (_NUMBER.match(value) or _DATE.match(value) or value.lower() in _BOOL)


def _width(row: Sequence[str]) -> int:
    """The row's fields up to its last non-empty one."""
    for i in range(len(row) - 1, -1, -1):
        if row[i].strip():
            return i + 1
    return 0


def header_row_detect(rows: Sequence[Sequence[str]]) -> int:
    """The index of the header among a table's first rows (0 unless the evidence says otherwise)."""
    rows = [list(r) for r in rows[: SCAN_ROWS + FOLLOWING_ROWS]]
    for index in range(1, min(SCAN_ROWS, len(rows))):
        if _is_header(rows, index):
            return index
    return 0


def _is_header(rows: list[list[str]], index: int) -> bool:
    cells = rows[index][: _width(rows[index])]
    width = len(cells)
    # Distinct names, but an export may print one twice (Invoice Ninja's two "Phone" columns).
    distinct = len({c.strip().lower() for c in cells})
    if width < 2 or not all(is_text(c) for c in cells) or distinct < max(2, DISTINCT_SHARE * width):
        return False
    # Above a header: titles, dates, blank lines; never a row as wide as a table.
    if any(sum(1 for c in r if c.strip()) > max(1, width // 2) for r in rows[:index]):
        return False
    following = [r for r in rows[index + 1 : index + 1 + FOLLOWING_ROWS] if _width(r)]
    if not following or any(_width(r) > width for r in following):
        return False
    values = [c for r in following for c in r[:width] if c.strip()]
    # An e-mail address is data, never a header's word: a client list is mostly text but for them.
    data = sum(1 for v in values if not is_text(v) or "@" in v)
    return bool(values) and data >= NON_TEXT_SHARE * len(values)


def csv_head_rows(path: Path, dialect: dict, limit: int = SCAN_ROWS + FOLLOWING_ROWS) -> list[list[str]]:
    """The first `limit` records of a CSV file in its own encoding, read with its delimiter and quote."""
    encoding = dialect.get("encoding") or "utf-8"
    with path.open(encoding=python_codec(encoding), errors=decode_errors(encoding), newline="") as fh:
        reader = csv.reader(
            (line.lstrip("\ufeff") for line in fh),
            delimiter=dialect.get("delimiter") or ",",
            quotechar=dialect.get("quote") or '"',
        )
        rows = []
        try:
            for row in reader:
                rows.append(row)
                if len(rows) >= limit:
                    break
        except csv.Error:
            pass  # a malformed head: detect on what was read
    return rows


def csv_write_from_row(src: Path, dest: Path, dialect: dict, header_row: int) -> None:
    """Copy `src` (in the dialect's encoding) to `dest` in UTF-8 from record `header_row` on.

    Records, not lines, are skipped (a title may hold a quoted line break); `dest` is written beside and
    renamed over, so a hard link to `src` is never written through.
    """
    encoding = dialect.get("encoding") or "utf-8"
    errors = decode_errors(encoding)
    encoding = python_codec(encoding)
    if encoding in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    codecs.lookup(encoding)
    partial = dest.with_name(dest.name + ".part")
    try:
        with src.open(encoding=encoding, errors=errors, newline="") as fin:
            reader = csv.reader(fin, delimiter=dialect.get("delimiter") or ",", quotechar=dialect.get("quote") or '"')
            for _ in range(header_row):
                if next(reader, None) is None:
                    break
            with partial.open("w", encoding="utf-8", newline="") as fout:
                while chunk := fin.read(1024 * 1024):
                    fout.write(chunk)
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
