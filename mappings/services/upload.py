"""Uploads as data sources: register a stored file, scan it, find an earlier upload of the same bytes."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.models import User
from mappings.intake.dialect import needs_transcoding, sniff_file
from mappings.intake.duck import file_columns, file_layout
from mappings.intake.header import csv_head_rows, header_row_detect
from mappings.intake.upload import (
    ALLOWED_SUFFIXES,
    UploadRejected,
    file_prepare_readable,
    file_scan,
    file_store,
    pg_storable,
    read_error_message,
    too_large,
    upload_name_sanitize,
)
from mappings.intake.workbook import WorkbookUnreadable, workbook_kind, workbook_work_bytes
from mappings.models import DataSource
from mappings.services.storage import upload_files_delete, upload_files_publish, upload_readable_local

logger = logging.getLogger(__name__)
SAME_CONTENT_LOCK_CLASS = 7_203  # first key of pg_advisory_xact_lock(int, int): "one user's upload of these bytes"


class UploadDuplicate(Exception):
    """The user uploaded these bytes before (or at the same moment): `earlier` is that upload."""

    def __init__(self, earlier: DataSource):
        super().__init__(f"already uploaded as #{earlier.pk}")
        self.earlier = earlier


def data_source_create(
    *,
    file: IO[bytes] | Path | str,
    name: str = "",
    user: User | None,
    domain: str = "",
    scan_later: bool = True,
    convert_later: bool = False,
    refuse_duplicate: bool = False,
) -> DataSource:
    """Store an uploaded data file and register it as a DataSource (status `uploaded`).

    `file` is a path, a binary file object or a Django UploadedFile. Raises `UploadRejected` with a
    message for the user when the file is too large, empty, of an unsupported type or unreadable.
    A big file's scan (rows, ragged rows) is queued for after the upload, unless `scan_later` is false: the
    caller executes it at once, and the execution scans it first anyway (a queued scan would read the file
    a second time beside it).
    With `convert_later` (the upload page and API), a file whose conversion is big (conversion_bytes) is
    stored as `converting` and converted and profiled by a task (services/convert.py), never in the request.
    With `refuse_duplicate`, raises `UploadDuplicate` (its files removed) when the user has an upload of the
    same bytes: the check and the insert hold a lock on (user, sha256), so of two identical uploads at the
    same moment exactly one is stored and the other is told about it.
    """
    if not name and isinstance(file, (str, Path)):
        name = Path(file).name
    name = upload_name_sanitize(name or getattr(file, "name", "") or "")
    suffix = suffix_checked(name)
    upload_dir = Path(settings.UPLOAD_DIR)
    upload_dir.mkdir(parents=True, exist_ok=True)
    stem = uuid.uuid4().hex
    original = upload_dir / f"{stem}.orig"
    readable = upload_dir / f"{stem}.csv"
    sha256, size = file_store(file, original)
    fields = {
        "name": name,
        "file_path": str(readable),
        "domain": (domain or "")[:64],
        "sha256": sha256,
        "size_bytes": size,
        "uploaded_by": user if user is not None and user.is_authenticated else None,
    }
    try:
        if size == 0:
            raise UploadRejected("The file is empty.")
        with transaction.atomic():
            if refuse_duplicate:
                _lock_same_content(sha256=sha256, user=user)
                earlier = data_source_find_duplicate(sha256=sha256, user=user)
                if earlier is not None:
                    raise UploadDuplicate(earlier)
            if convert_later and conversion_bytes(original, suffix) > settings.UPLOAD_CONVERT_SYNC_BYTES:
                source = DataSource.objects.create(
                    **fields,
                    status=DataSource.Status.CONVERTING,
                    file_format=workbook_kind(original, suffix) or "csv",
                    dialect={"original_file": str(original)},
                )
                upload_files_publish(source)  # before the commit: the conversion task reads it from the storage
                transaction.on_commit(lambda: conversion_enqueue(source.pk))
                return source
            file_format, dialect, deferred = readable_make(original, readable, suffix, scan=True)
            dialect["original_file"] = str(original)
            source = DataSource.objects.create(
                **fields, rows=dialect.pop("rows"), file_format=file_format, dialect=pg_storable(dialect)
            )
            upload_files_publish(source)
    except BaseException:
        upload_files_delete([original, readable])
        raise
    if deferred and scan_later:
        transaction.on_commit(lambda: _scan_later(source.pk))
    return source


def suffix_checked(name: str) -> str:
    """The file name's suffix, lower-cased; refuses a type that is not a text table or a workbook."""
    suffix = Path(name).suffix.lower()
    if suffix and suffix not in ALLOWED_SUFFIXES:
        raise UploadRejected(
            f"Unsupported file type {suffix!r}: upload a CSV/TSV text file or a workbook (.xlsx, .xls, .ods)."
        )
    return suffix


@contextmanager
def file_intake_check(path: Path) -> Iterator[tuple[Path, str, dict]]:
    """(readable CSV, file format, dialect with "columns" and "rows") of a file, through the upload's checks
    and converters (type, size, binary, zip bomb, workbook, encoding, title lines) in a temporary directory
    that is removed afterwards: nothing is stored. Raises UploadRejected as the upload would."""
    suffix = suffix_checked(path.name)
    with tempfile.TemporaryDirectory(prefix="intake-") as tmp:
        original, readable = Path(tmp) / "file.orig", Path(tmp) / "file.csv"
        size = _intake_original(path, original)
        if size == 0:
            raise UploadRejected("The file is empty.")
        file_format, dialect, _ = readable_make(original, readable, suffix, scan=True)
        yield readable, file_format, dialect


def _intake_original(path: Path, original: Path) -> int:
    """The file's size, with `original` a hard link to it (nothing is stored, so a 1 GB file is not copied), or
    a copy where no link can be made (another file system); refuses files past UPLOAD_MAX_BYTES as the upload."""
    if path.stat().st_size > settings.UPLOAD_MAX_BYTES:
        raise too_large()
    try:
        original.hardlink_to(path)
    except OSError:
        return file_store(path, original)[1]
    return original.stat().st_size


def conversion_bytes(original: Path, suffix: str) -> int:
    """How much converting the upload reads: a workbook's inflated parts; a big CSV's size when it must be
    transcoded or cut below title lines; 0 for a UTF-8 CSV read in place. Refuses a zip bomb."""
    kind = workbook_kind(original, suffix)
    if kind is not None:
        try:
            return workbook_work_bytes(original, kind)
        except WorkbookUnreadable as exc:
            raise UploadRejected(str(exc)) from exc
    size = original.stat().st_size
    if size <= settings.UPLOAD_CONVERT_SYNC_BYTES:
        return size
    dialect = sniff_file(original).as_json()
    if needs_transcoding(dialect["encoding"]) or header_row_detect(csv_head_rows(original, dialect)):
        return size
    return 0


def readable_make(
    original: Path,
    readable: Path,
    suffix: str,
    *,
    scan: bool,
    sheet: str | None = None,
    header_row: int | None = None,
    progress=None,
) -> tuple[str, dict, bool]:
    """Convert `original` into the readable CSV `readable` and read its layout: (file format, dialect with
    "columns", "rows" and, when scanned, "ragged"; whether the whole-file scan is still to do).

    The CSV is written beside `readable` and renamed over it, so a hard link to the original is never
    written through and a failed re-read leaves the previous copy. Raises UploadRejected.
    """
    fresh = readable.with_name(readable.stem + ".new.csv")
    fresh.unlink(missing_ok=True)
    try:
        _, file_format, dialect = file_prepare_readable(
            original, fresh, suffix, sheet=sheet, header_row=header_row, progress=progress
        )
        deferred = not scan or fresh.stat().st_size > scan_sync_bytes()
        try:
            if deferred:  # counted after the upload (data_source_scan): the profile estimates meanwhile
                columns, rows, ragged = file_columns(fresh, dialect), None, None
            else:
                columns, rows, ragged = file_layout(fresh, dialect)
        except Exception as exc:  # DuckDB's parse errors are several classes; all mean "unreadable"
            raise UploadRejected(read_error_message(exc, fresh)) from exc
        if not columns:
            raise UploadRejected("The file has no columns.")
        if any("\x00" in c for c in columns):
            raise UploadRejected(
                "The header row holds NUL bytes: the file is not text in an encoding this server recognises "
                "(UTF-8, UTF-16 or UTF-32 with a byte order mark, cp1252). Save it as a UTF-8 CSV."
            )
        if rows == 0 and dialect.get("header", True):
            raise UploadRejected(
                f"The file has a header row ({len(columns)} columns) but no data rows: there is nothing to load."
            )
        fresh.replace(readable)
    finally:
        fresh.unlink(missing_ok=True)
    dialect["columns"], dialect["rows"] = columns, rows
    if not deferred:
        dialect["ragged"] = ragged  # the key is absent until the whole file has been scanned
    return file_format, dialect, deferred


def conversion_enqueue(source_id: int) -> None:
    from mappings.tasks import data_source_convert_task

    try:
        data_source_convert_task.delay(source_id)
    except Exception:  # noqa: BLE001 - broker down: convert here rather than leave the upload converting
        logger.warning("could not queue the conversion of upload %s; converting it in this process", source_id)
        from mappings.services.convert import data_source_convert

        source = DataSource.objects.filter(pk=source_id).first()
        if source is not None:
            data_source_convert(source=source)


def _lock_same_content(*, sha256: str, user: User | None) -> None:
    """Wait for any other upload of these bytes by this user to commit (or give up) its row."""
    owner = user.pk if user is not None and user.is_authenticated else 0
    key = int.from_bytes(hashlib.sha256(f"{owner}:{sha256}".encode()).digest()[:4], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SAME_CONTENT_LOCK_CLASS, key])


def scan_sync_bytes() -> int:
    """Files up to this size are scanned (rows, ragged rows) during the upload; bigger ones after it."""
    return settings.UPLOAD_SCAN_SYNC_BYTES


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
    if scanned is None:
        with upload_readable_local(source):
            scanned = file_scan(source.file_path, source.dialect)
    dialect, rows = scanned
    source.dialect, source.rows = dialect, rows
    if source.profile:
        source.profile = {**source.profile, "ragged": dialect["ragged"], "rows": rows}
    source.save(update_fields=["dialect", "rows", "profile"])
    return source


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
