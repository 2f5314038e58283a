"""Excel and OpenDocument workbooks (.xlsx, .xls, .ods) as the UTF-8 CSV every reader takes.

One converter, python-calamine, for the upload, the profile and `propose_mapping`, so a cell reads the
same everywhere: a whole number stored as a float is "1", a date "2019-01-03", a date-time
"2019-01-03 14:05:00", a boolean "true"/"false", an empty cell empty. Empty rows are left out (trailing
ones and separators alike: they carry nothing) and the width is that of the widest row, so trailing empty
columns are ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from mappings.intake.header import SCAN_ROWS, header_row_detect

WORKBOOK_SUFFIXES = {".xlsx": "xlsx", ".xls": "xls", ".ods": "ods"}
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A workbook's parts may inflate to at most this many times the upload limit, and no part more than
# this ratio: beyond either, it is a zip bomb, not a spreadsheet.
MAX_INFLATE_FACTOR = 20
MAX_RATIO = 200
LOADED = 0.5  # the share of a conversion's progress reached once the sheet is read into memory


class WorkbookUnreadable(Exception):
    """The workbook cannot be converted; the message says why, for the user."""


def workbook_kind(path: Path, suffix: str) -> str | None:
    """ "xlsx", "xls" or "ods" when the file is a workbook (by its first bytes, else its name), else None."""
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(ZIP_MAGIC):
        if suffix == ".ods":
            return "ods"
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "mimetype" in names and b"spreadsheet" in archive.read("mimetype")[:100]:
                    return "ods"
        except zipfile.BadZipFile:
            pass
        return "xlsx"
    if magic == OLE2_MAGIC:
        return "xls"
    # Web apps' "Excel" exports are often text (tab-separated, CSV) named .xls: read as the text they are.
    return None


def workbook_work_bytes(path: Path, kind: str) -> int:
    """What converting the workbook reads: its parts inflated (zip formats), or its size (.xls).

    Refuses a zip bomb from the zip's directory alone, before anything inflates it.
    """
    if kind == "xls":
        return path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise WorkbookUnreadable(f"The workbook could not be read: it is not a valid .{kind} (zip) file.") from exc
    total = sum(p.file_size for p in parts)
    if total > settings.UPLOAD_MAX_BYTES * MAX_INFLATE_FACTOR:
        raise WorkbookUnreadable(
            f"The workbook would expand to {total // (1024 * 1024)} MB, more than this server accepts: "
            "save it as CSV, or split it."
        )
    for part in parts:
        if part.file_size > 1024 * 1024 and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise WorkbookUnreadable(
                f"The workbook looks like a zip bomb: {part.filename!r} expands "
                f"{part.file_size // max(part.compress_size, 1)} times. Save it as CSV instead."
            )
    return total


def cell_text(value) -> str:
    """A cell as text, the way every reader of the converted CSV expects it."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        text = f"{value:.15g}"  # Excel keeps 15 significant digits: 5.551199999999998 is 5.5512
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, dt.datetime):
        value = _whole_second(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return _whole_second(dt.datetime.combine(dt.date(2000, 1, 1), value)).strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        return str(dt.timedelta(seconds=round(value.total_seconds())))
    return str(value)


def _whole_second(value: dt.datetime) -> dt.datetime:
    """Excel stores times as fractions of a day: 14:05 comes back as 14:04:59.999999."""
    return (value + dt.timedelta(microseconds=500_000)).replace(microsecond=0)


@dataclass
class Converted:
    sheet: str
    sheets: list[dict]  # [{"name", "rows"}] of every worksheet, in workbook order
    header_row: int  # index of the header among the sheet's rows (0 = its first row)
    rows: int  # data rows written under the header


def _open(path: Path):
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several kinds (zip, XML, password, BIFF) for one meaning
        raise WorkbookUnreadable(f"The workbook could not be read: {str(exc).splitlines()[0][:200]}") from exc


def _worksheets(workbook) -> list[tuple[str, object]]:
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    sheets = []
    for meta in workbook.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        try:
            sheet = workbook.get_sheet_by_name(meta.name)
        except Exception as exc:  # noqa: BLE001 - one unreadable sheet: the others may still be read
            raise WorkbookUnreadable(f"The sheet {meta.name!r} could not be read: {exc}") from exc
        sheets.append((meta.name, sheet, meta.visible == SheetVisibleEnum.Visible))
    return sheets


def _default_sheet(sheets: list[tuple[str, object, bool]]) -> str:
    """The first visible sheet with a header and data under it, else the largest."""
    for name, sheet, visible in sheets:
        if visible and sheet.height >= 2:
            return name
    return max(sheets, key=lambda s: s[1].height * max(s[1].width, 1))[0]


def workbook_to_csv(
    src: Path,
    dest: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> Converted:
    """Write one sheet of a workbook as a UTF-8 CSV, from its header row on.

        `sheet` defaults to the first visible sheet with data (else the largest); `header_row` to the one the
        evidence shows (mappings.intake.header). `progress(fraction)` is called once the sheet is read, then as
    rows are written.
    """
    workbook = _open(src)
    try:
        sheets = _worksheets(workbook)
        if not sheets:
            raise WorkbookUnreadable("The workbook has no worksheet.")
        names = [name for name, _, _ in sheets]
        if sheet is None:
            sheet = _default_sheet(sheets)
        elif sheet not in names:
            raise WorkbookUnreadable(f"The workbook has no sheet {sheet!r}: it has {', '.join(map(repr, names))}.")
        data = dict((name, s) for name, s, _ in sheets)[sheet]
        listing = [{"name": name, "rows": s.height} for name, s, _ in sheets]
        # Pass 1: the width (widest row), the columns holding date-times, and the head, rendered, for the
        # header's evidence. calamine gives a date-time at midnight as a date: in a column of date-times it is
        # written as one, so a column never mixes two formats.
        width, head, height, timed = 0, [], 0, set()
        for index, row in enumerate(data.iter_rows()):
            height = index + 1
            for i in range(len(row) - 1, width - 1, -1):
                if row[i] != "" and not (isinstance(row[i], str) and not row[i].strip()):
                    width = i + 1
                    break
            timed.update(i for i, v in enumerate(row) if isinstance(v, dt.datetime))
            if index < SCAN_ROWS + 10:
                head.append([cell_text(v) for v in row])
        if header_row is None:
            header_row = header_row_detect(head)
        if width == 0 or header_row >= height:
            raise WorkbookUnreadable(f"The sheet {sheet!r} has no data" + (" at that row." if width else "."))
        if progress is not None:
            progress(LOADED)
        rows = _write(data, dest, width=width, header_row=header_row, height=height, timed=timed, progress=progress)
        return Converted(sheet=sheet, sheets=listing, header_row=header_row, rows=rows)
    finally:
        workbook.close()


def _write(data, dest: Path, *, width: int, header_row: int, height: int, timed: set[int], progress) -> int:
    written = 0
    last_report = time.monotonic()
    with dest.open("w", encoding="utf-8", newline="") as fout:
        writer = csv.writer(fout, lineterminator="\n")
        for index, row in enumerate(data.iter_rows()):
            if index < header_row:
                continue
            cells = [cell_text(v) for v in row[:width]]
            for i in timed:
                if i < width and type(row[i]) is dt.date:
                    cells[i] += " 00:00:00"
            if index > header_row and not any(c.strip() for c in cells):
                continue
            cells += [""] * (width - len(cells))
            writer.writerow(cells)
            written += 1
            if progress is not None and time.monotonic() - last_report > 0.5:
                progress(LOADED + (1 - LOADED) * index / max(height, 1))
                last_report = time.monotonic()
    return written - 1  # the header
