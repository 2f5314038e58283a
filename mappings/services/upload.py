"""Uploads: store a data file safely, fingerprint it, sniff how it is written, count its rows.

The stored file is always a UTF-8 CSV that DuckDB reads directly (`DataSource.file_path`):
cp1252/latin-1/UTF-16 files are transcoded and Excel workbooks converted on the way in, and the
original bytes are kept next to it (`DataSource.dialect["original_file"]`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import unicodedata
import uuid
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User
from mappings.intake.dialect import needs_transcoding, sniff_file, transcode_to_utf8, xlsx_to_csv
from mappings.intake.duck import file_columns, file_layout
from mappings.models import DataSource

logger = logging.getLogger(__name__)
ALLOWED_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx"}
_CHUNK = 1024 * 1024
_XLSX_MAGIC = b"PK\x03\x04"


class UploadRejected(Exception):
    """The file cannot be accepted; the message says why, for the user."""


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


def _store(file: IO[bytes] | Path | str, dest: Path) -> tuple[str, int]:
    """Stream `file` to `dest`, returning (sha256, size); refuses files past UPLOAD_MAX_BYTES."""
    digest = hashlib.sha256()
    size = 0
    limit = settings.UPLOAD_MAX_BYTES
    if isinstance(file, (str, Path)):
        with Path(file).open("rb") as fh:
            return _store(fh, dest)
    try:
        with dest.open("wb") as out:
            for chunk in _chunks(file):
                size += len(chunk)
                if size > limit:
                    raise UploadRejected(
                        f"The file is larger than the upload limit of {limit // (1024 * 1024)} MB (UPLOAD_MAX_MB)."
                    )
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def data_source_create(
    *, file: IO[bytes] | Path | str, name: str = "", user: User | None, domain: str = "", scan_later: bool = True
) -> DataSource:
    """Store an uploaded data file and register it as a DataSource (status `uploaded`).

    `file` is a path, a binary file object or a Django UploadedFile. Raises `UploadRejected` with a
    message for the user when the file is too large, empty, of an unsupported type or unreadable.
    A big file's scan (rows, ragged rows) is queued for after the upload, unless `scan_later` is false: the
    caller executes it at once, and the execution scans it first anyway (a queued scan would read the file
    a second time beside it).
    """
    if not name and isinstance(file, (str, Path)):
        name = Path(file).name
    name = upload_name_sanitize(name or getattr(file, "name", "") or "")
    suffix = Path(name).suffix.lower()
    if suffix and suffix not in ALLOWED_SUFFIXES:
        raise UploadRejected(
            f"Unsupported file type {suffix!r}: upload a CSV/TSV text file or an Excel .xlsx workbook."
        )
    upload_dir = Path(settings.UPLOAD_DIR)
    upload_dir.mkdir(parents=True, exist_ok=True)
    stem = uuid.uuid4().hex
    original = upload_dir / f"{stem}.orig"
    sha256, size = _store(file, original)
    try:
        if size == 0:
            raise UploadRejected("The file is empty.")
        readable, file_format, dialect = _prepare_readable(original, upload_dir / f"{stem}.csv", suffix)
        deferred = readable.stat().st_size > scan_sync_bytes()
        try:
            if deferred:  # counted after the upload (data_source_scan): the profile estimates meanwhile
                columns, rows, ragged = file_columns(readable, dialect), None, None
            else:
                columns, rows, ragged = file_layout(readable, dialect)
        except Exception as exc:  # DuckDB's parse errors are several classes; all mean "unreadable"
            raise UploadRejected(_read_error_message(exc, readable)) from exc
        if not columns:
            raise UploadRejected("The file has no columns.")
        if rows == 0 and dialect.get("header", True):
            raise UploadRejected(
                f"The file has a header row ({len(columns)} columns) but no data rows: there is nothing to load."
            )
    except BaseException:
        for path in (original, upload_dir / f"{stem}.csv"):
            path.unlink(missing_ok=True)
        raise
    dialect["columns"] = columns
    if not deferred:
        dialect["ragged"] = ragged  # the key is absent until the whole file has been scanned
    dialect["original_file"] = str(original)
    source = DataSource.objects.create(
        name=name,
        file_path=str(readable),
        domain=(domain or "")[:64],
        sha256=sha256,
        size_bytes=size,
        rows=rows,
        file_format=file_format,
        dialect=dialect,
        uploaded_by=user if user is not None and user.is_authenticated else None,
    )
    if deferred and scan_later:
        transaction.on_commit(lambda: _scan_later(source.pk))
    return source


def scan_sync_bytes() -> int:
    """Files up to this size are scanned (rows, ragged rows) during the upload; bigger ones after it."""
    return int(getattr(settings, "UPLOAD_SCAN_SYNC_BYTES", 16 * 1024 * 1024))


def _scan_later(source_id: int) -> None:
    from mappings.tasks import data_source_scan_task

    try:
        data_source_scan_task.delay(source_id)
    except Exception:  # noqa: BLE001 - broker down: the execution scans before it plans (data_source_scan)
        logger.warning("could not queue the scan of upload %s; it will be scanned before it is executed", source_id)


def data_source_scan(*, source: DataSource, scanned: tuple[dict, int] | None = None) -> DataSource:
    """Count an upload's rows and its rows with more fields than the header over the whole file, once.

    Big uploads are scanned after the upload (a Celery task) so the profile shows at once; an execution
    or a preview calls this first when the scan has not happened yet (`"ragged"` missing from the
    dialect), so a ragged row is never read shifted. `scanned` is `file_scan`'s result when the caller
    scanned the file already (the ingest command, beside the profile).
    """
    if "ragged" in source.dialect:
        return source
    dialect, rows = scanned if scanned is not None else file_scan(source.file_path, source.dialect)
    source.dialect, source.rows = dialect, rows
    if source.profile:
        source.profile = {**source.profile, "ragged": dialect["ragged"], "rows": rows}
    source.save(update_fields=["dialect", "rows", "profile"])
    return source


def file_scan(path: str, dialect: dict) -> tuple[dict, int]:
    """(the dialect with "ragged" and, when values span lines, "quoted_newlines"; the row count) of a whole
    file. Touches no database: it may run in a thread beside other work."""
    dialect = dict(dialect)
    _, rows, ragged = file_layout(path, dialect)
    dialect["ragged"] = ragged
    return dialect, rows


def _read_error_message(exc: Exception, path: Path) -> str:
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


# A workbook's parts may inflate to at most this many times the upload limit, and no part more than
# this ratio: beyond either, it is a zip bomb, not a spreadsheet.
XLSX_MAX_INFLATE_FACTOR = 20
XLSX_MAX_RATIO = 200


def _xlsx_refuse_bomb(path: Path) -> None:
    """Check the workbook's zip directory before anything inflates it."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise UploadRejected("The Excel workbook could not be read: it is not a valid .xlsx (zip) file.") from exc
    total = sum(p.file_size for p in parts)
    if total > settings.UPLOAD_MAX_BYTES * XLSX_MAX_INFLATE_FACTOR:
        raise UploadRejected(
            f"The Excel workbook would expand to {total // (1024 * 1024)} MB, more than this server accepts: "
            "save it as CSV, or split it."
        )
    for part in parts:
        if part.file_size > 1024 * 1024 and part.file_size > XLSX_MAX_RATIO * max(part.compress_size, 1):
            raise UploadRejected(
                f"The Excel workbook looks like a zip bomb: {part.filename!r} expands "
                f"{part.file_size // max(part.compress_size, 1)} times. Save it as CSV instead."
            )


def _looks_binary(path: Path) -> bool:
    """NUL bytes in the first 8 KB of a file that is not UTF-16 (UTF-16 text is full of them)."""
    with path.open("rb") as fh:
        sample = fh.read(8192)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" not in sample:
        return False
    # BOM-less UTF-16 has a NUL in (almost) every other byte; binary data has them anywhere.
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    return not (even > 0.4 * half and odd < 0.05 * half) and not (odd > 0.4 * half and even < 0.05 * half)


def _prepare_readable(original: Path, readable: Path, suffix: str) -> tuple[Path, str, dict]:
    """Make the UTF-8 CSV DuckDB will read; returns (its path, file format, dialect)."""
    with original.open("rb") as fh:
        magic = fh.read(4)
    if suffix == ".xlsx" or magic == _XLSX_MAGIC:
        _xlsx_refuse_bomb(original)
        try:
            xlsx_to_csv(original, readable)
        except Exception as exc:  # openpyxl raises many kinds for a corrupt workbook
            raise UploadRejected(f"The Excel workbook could not be read: {exc}") from exc
        return readable, "xlsx", {"encoding": "utf-8", "delimiter": ",", "quote": '"', "header": True}
    if _looks_binary(original):
        raise UploadRejected("This looks like a binary file, not a CSV text file.")
    dialect = sniff_file(original)
    if needs_transcoding(dialect.encoding):
        transcode_to_utf8(original, readable, dialect.encoding)
    else:
        # Already UTF-8: a hard link avoids a copy of a possibly large file.
        try:
            readable.hardlink_to(original)
        except OSError:
            transcode_to_utf8(original, readable, dialect.encoding)
    return readable, "csv", dialect.as_json()


def data_source_find_duplicate(*, sha256: str, user: User | None, exclude_id: int | None = None) -> DataSource | None:
    """The user's most recent upload with the same content, if any (re-upload detection).

    Pass `exclude_id` to ignore the upload being checked.
    """
    qs: QuerySet[DataSource] = DataSource.objects.filter(sha256=sha256).exclude(pk=exclude_id)
    if user is not None and user.is_authenticated:
        qs = qs.filter(uploaded_by=user)
    else:
        qs = qs.filter(uploaded_by__isnull=True)
    return qs.order_by("-upload_date", "-pk").first()
