"""An upload's bytes: store them safely, fingerprint them, make them a readable CSV, count its rows.

The stored file is always a UTF-8 CSV that DuckDB reads directly (`DataSource.file_path`):
cp1252/latin-1/UTF-16/UTF-32 files are transcoded and Excel workbooks converted on the way in, and the
original bytes are kept next to it (`DataSource.dialect["original_file"]`).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
from pathlib import Path
from typing import IO

from django.conf import settings

from mappings.intake.dialect import encoding_from_evidence, needs_transcoding, sniff_file, transcode_to_utf8
from mappings.intake.duck import file_layout
from mappings.intake.header import csv_head_rows, csv_write_from_row, header_row_detect
from mappings.intake.workbook import (
    WORKBOOK_SUFFIXES,
    WorkbookUnreadable,
    workbook_kind,
    workbook_to_csv,
    workbook_work_bytes,
)

ALLOWED_SUFFIXES = {".csv", ".tsv", ".txt", *WORKBOOK_SUFFIXES}
_CHUNK = 1024 * 1024


class UploadRejected(Exception):
    """The file cannot be accepted; the message says why, for the user."""


NUL_SHOWN_AS = "\u2400"  # ␀, the symbol for NUL


def pg_storable(value):
    """`value` (text, or JSON made of dicts, lists and text) with every NUL shown as ␀.

    PostgreSQL text and jsonb cannot hold U+0000: a NUL from a file (a profile's sample values, a rejected
    row's value) would fail the whole write.
    """
    if isinstance(value, str):
        return value.replace("\x00", NUL_SHOWN_AS) if "\x00" in value else value
    if isinstance(value, dict):
        return {pg_storable(k): pg_storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [pg_storable(v) for v in value]
    return value


def upload_name_sanitize(name: str) -> str:
    """A display name for an uploaded file: no directories, no control characters, at most 200 chars.

    The name is only ever displayed; storage paths are chosen by the server.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip().lstrip(".")
    if not name:
        name = "upload.csv"
    if len(name) > 200:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[:190] + dot + suffix[:9]) if dot and len(suffix) <= 9 else name[:200]
    return name


def _chunks(file) -> object:
    if hasattr(file, "chunks"):
        yield from file.chunks(_CHUNK)
        return
    if hasattr(file, "seek"):
        with contextlib.suppress(OSError, ValueError):
            file.seek(0)
    while chunk := file.read(_CHUNK):
        yield chunk.encode("utf-8") if isinstance(chunk, str) else chunk


def too_large() -> UploadRejected:
    """The refusal of a file past UPLOAD_MAX_BYTES."""
    limit_mb = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
    return UploadRejected(f"The file is larger than the upload limit of {limit_mb} MB (UPLOAD_MAX_MB).")


def file_store(file: IO[bytes] | Path | str, dest: Path) -> tuple[str, int]:
    """Stream `file` to `dest`, returning (sha256, size); refuses files past UPLOAD_MAX_BYTES."""
    digest = hashlib.sha256()
    size = 0
    limit = settings.UPLOAD_MAX_BYTES
    if isinstance(file, (str, Path)):
        with Path(file).open("rb") as fh:
            return file_store(fh, dest)
    try:
        with dest.open("wb") as out:
            for chunk in _chunks(file):
                size += len(chunk)
                if size > limit:
                    raise too_large()
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def file_scan(path: str, dialect: dict) -> tuple[dict, int]:
    """(the dialect with "ragged" and, when values span lines, "quoted_newlines"; the row count) of a whole
    file. Touches no database: it may run in a thread beside other work."""
    dialect = dict(dialect)
    _, rows, ragged = file_layout(path, dialect)
    dialect["ragged"] = ragged
    return dialect, rows


def read_error_message(exc: Exception, path: Path) -> str:
    """A message for the user from a DuckDB read error: what is wrong, never the server's paths."""
    text = str(exc)
    if "sniffing file" in text:  # (its hints mention the line size too: test this first)
        return (
            "The file's layout could not be worked out: check it for an unclosed quote (\") "
            "or rows with very different numbers of fields."
        )
    if "line size" in text.lower() or ("Original Line:" in text and len(text) > 100_000):
        return "A row of the file is longer than the 2 MB a row may have (a huge cell, or an unclosed quote?)."
    first = text.splitlines()[0] if text else type(exc).__name__
    for secret in (str(path), str(path.parent), str(Path(settings.UPLOAD_DIR))):
        first = first.replace(secret, "the file")
    return f"The file could not be read as a table: {first[:300]}"


def _looks_binary(path: Path) -> bool:
    """NUL bytes in the first 8 KB of a file that is not UTF-16 or -32 (their text is full of them)."""
    with path.open("rb") as fh:
        sample = fh.read(8192)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):  # UTF-16 and UTF-32 BOMs
        return False
    if b"\x00" not in sample:
        return False
    # BOM-less UTF-16 has a NUL in (almost) every other byte; binary data has them anywhere.
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    return not (even > 0.4 * half and odd < 0.05 * half) and not (odd > 0.4 * half and even < 0.05 * half)


def readable_dialect(dialect: dict) -> dict:
    """The dialect to read the readable CSV with: always UTF-8 (it is transcoded on the way in); the upload's
    dialect keeps the original's encoding to show it. Reading the readable copy as the original's cp1252 turns
    "Währung" into "WÃ¤hrung"."""
    return {**dialect, "encoding": "utf-8"}


def file_prepare_readable(
    original: Path,
    readable: Path,
    suffix: str,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    progress=None,
) -> tuple[Path, str, dict]:
    """Make the UTF-8 CSV DuckDB will read; returns (its path, file format, dialect).

    The CSV starts at the header row (`header_row`, or the one the evidence shows: title lines above it
    are left out); for a workbook, of `sheet` (or the first sheet with data).
    """
    kind = workbook_kind(original, suffix)
    if kind is not None:
        try:
            workbook_work_bytes(original, kind)
            converted = workbook_to_csv(original, readable, sheet=sheet, header_row=header_row, progress=progress)
        except WorkbookUnreadable as exc:
            raise UploadRejected(str(exc)) from exc
        dialect = {"encoding": "utf-8", "delimiter": ",", "quote": '"', "header": True}
        dialect.update(sheet=converted.sheet, sheets=converted.sheets, header_row=converted.header_row)
        return readable, kind, dialect
    if _looks_binary(original):
        raise UploadRejected("This looks like a binary file, not a CSV text file.")
    sniffed = sniff_file(original)
    encoding, mixed = encoding_from_evidence(sniffed.encoding, original)
    dialect = {**sniffed.as_json(), "encoding": encoding}
    if header_row is None:
        header_row = header_row_detect(csv_head_rows(original, dialect))
    if header_row and needs_transcoding(encoding):
        # Title lines above the header of a re-encoded file: to UTF-8 first, then from the header on.
        transcode_to_utf8(original, readable, encoding)
        csv_write_from_row(readable, readable, readable_dialect(dialect), header_row)
    elif header_row:
        csv_write_from_row(original, readable, dialect, header_row)
    elif needs_transcoding(encoding):
        transcode_to_utf8(original, readable, encoding)
    else:
        # Already UTF-8: a hard link avoids a copy of a possibly large file.
        try:
            readable.hardlink_to(original)
        except OSError:
            transcode_to_utf8(original, readable, encoding)
    dialect["header_row"] = header_row
    if mixed:
        dialect["mixed_encoding"] = mixed
    return readable, "csv", dialect
