"""Uploads: store a data file safely, fingerprint it, sniff how it is written, count its rows.

The stored file is always a UTF-8 CSV that DuckDB reads directly (`DataSource.file_path`):
cp1252/latin-1/UTF-16 files are transcoded and Excel workbooks converted on the way in, and the
original bytes are kept next to it (`DataSource.dialect["original_file"]`).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
import uuid
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import User
from mappings.models import DataSource
from mappings.services.dialect import needs_transcoding, sniff_file, transcode_to_utf8, xlsx_to_csv
from mappings.services.duck import file_columns_and_rows

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
    *, file: IO[bytes] | Path | str, name: str = "", user: User | None, domain: str = ""
) -> DataSource:
    """Store an uploaded data file and register it as a DataSource (status `uploaded`).

    `file` is a path, a binary file object or a Django UploadedFile. Raises `UploadRejected` with a
    message for the user when the file is too large, empty, of an unsupported type or unreadable.
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
        try:
            columns, rows = file_columns_and_rows(readable, dialect)
        except Exception as exc:  # DuckDB's parse errors are several classes; all mean "unreadable"
            raise UploadRejected(f"The file could not be read as a table: {str(exc).splitlines()[0]}") from exc
        if not columns:
            raise UploadRejected("The file has no columns.")
    except BaseException:
        for path in (original, upload_dir / f"{stem}.csv"):
            path.unlink(missing_ok=True)
        raise
    dialect["columns"] = columns
    dialect["original_file"] = str(original)
    return DataSource.objects.create(
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


def _prepare_readable(original: Path, readable: Path, suffix: str) -> tuple[Path, str, dict]:
    """Make the UTF-8 CSV DuckDB will read; returns (its path, file format, dialect)."""
    with original.open("rb") as fh:
        magic = fh.read(4)
    if suffix == ".xlsx" or magic == _XLSX_MAGIC:
        try:
            xlsx_to_csv(original, readable)
        except Exception as exc:  # openpyxl raises many kinds for a corrupt workbook
            raise UploadRejected(f"The Excel workbook could not be read: {exc}") from exc
        return readable, "xlsx", {"encoding": "utf-8", "delimiter": ",", "quote": '"', "header": True}
    if b"\x00" in magic and not magic.startswith((b"\xff\xfe", b"\xfe\xff")) and magic.count(b"\x00") > 2:
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
