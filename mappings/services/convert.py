"""Converting an upload again: a big file after its upload (a task), another sheet or another header row."""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction

from mappings.models import DataSource
from mappings.profiling.profile import ProfileError
from mappings.services.profile import data_source_profile
from mappings.services.storage import upload_files_local, upload_files_publish
from mappings.services.upload import UploadRejected, conversion_bytes, conversion_enqueue, readable_make

logger = logging.getLogger(__name__)


def _suffix(source: DataSource) -> str:
    return Path(source.name).suffix.lower()


def data_source_convert(*, source: DataSource) -> DataSource:
    """Convert an upload stored as `converting` (its sheet and header row as the dialect asks, if it does),
    count its rows and profile it. Runs in the worker for big files; progress goes to `source.progress`.
    A file that cannot be read ends `failed` with the reason in `source.error`.
    """
    if source.status != DataSource.Status.CONVERTING:
        return source
    with upload_files_local(source):
        return _convert(source)


def _convert(source: DataSource) -> DataSource:
    wanted = source.dialect

    def progress(fraction: float) -> None:
        # The share of the sheet written so far; profiling is the last tenth.
        DataSource.objects.filter(pk=source.pk).update(progress=round(0.9 * fraction, 3))

    try:
        file_format, dialect, _ = readable_make(
            Path(wanted["original_file"]),
            Path(source.file_path),
            _suffix(source),
            scan=True,
            sheet=wanted.get("sheet"),
            header_row=wanted.get("header_row"),
            progress=progress,
        )
    except (UploadRejected, OSError) as exc:
        source.status, source.error, source.progress = DataSource.Status.FAILED, str(exc), 1.0
        source.save(update_fields=["status", "error", "progress"])
        return source
    dialect["original_file"] = wanted["original_file"]
    upload_files_publish(source)
    # One transaction: the page polling the status sees `converting` until the profile is there too.
    with transaction.atomic():
        source.rows = dialect.pop("rows")
        source.dialect, source.file_format, source.profile = dialect, file_format, {}
        source.status, source.error, source.progress = DataSource.Status.UPLOADED, "", 1.0
        source.save(update_fields=["rows", "dialect", "file_format", "profile", "status", "error", "progress"])
        try:
            data_source_profile(source=source, file_figures=True)  # in the worker: the whole file's ranges too
        except ProfileError as exc:
            source.status, source.error = DataSource.Status.FAILED, str(exc)
            source.save(update_fields=["status", "error"])
    return source


def data_source_read_as(
    *, source: DataSource, sheet: str | None = None, header_row: int | None = None, convert_later: bool = True
) -> DataSource:
    """Read an upload again from another sheet (workbooks) or another header row (0 = the first row), then
    profile it; proposals made for the old reading no longer apply. A big file is converted by a task
    (`converting`) when `convert_later`. Raises UploadRejected with a message for the user.
    """
    with upload_files_local(source):
        return _read_as(source=source, sheet=sheet, header_row=header_row, convert_later=convert_later)


def _read_as(*, source: DataSource, sheet: str | None, header_row: int | None, convert_later: bool) -> DataSource:
    original = Path(source.dialect.get("original_file") or "")
    if not original.is_file():
        raise UploadRejected("The original file of this upload is no longer stored: upload it again.")
    if source.status == DataSource.Status.CONVERTING:
        raise UploadRejected("This upload is still being converted: wait for it to finish.")
    sheets = [s["name"] for s in source.dialect.get("sheets") or []]
    if sheet is not None and sheet not in sheets:
        raise UploadRejected("Choose one of the workbook's sheets.")
    if header_row is not None and not 0 <= header_row < 10_000:
        raise UploadRejected("The header row must be a row number from 1.")
    wanted = {"original_file": str(original), "sheet": sheet or source.dialect.get("sheet"), "header_row": header_row}
    if convert_later and conversion_bytes(original, _suffix(source)) > settings.UPLOAD_CONVERT_SYNC_BYTES:
        source.status, source.progress, source.dialect, source.profile = DataSource.Status.CONVERTING, 0.0, wanted, {}
        source.save(update_fields=["status", "progress", "dialect", "profile"])
        transaction.on_commit(lambda: conversion_enqueue(source.pk))
        return source
    file_format, dialect, _ = readable_make(
        original, Path(source.file_path), _suffix(source), scan=True, sheet=wanted["sheet"], header_row=header_row
    )
    dialect["original_file"] = str(original)
    upload_files_publish(source)
    source.rows = dialect.pop("rows")
    source.dialect, source.file_format, source.profile, source.error = dialect, file_format, {}, ""
    if source.status == DataSource.Status.FAILED:
        source.status = DataSource.Status.UPLOADED
    source.save(update_fields=["rows", "dialect", "file_format", "profile", "error", "status"])
    data_source_profile(source=source)
    return source
