"""Taking in an upload end to end: store it (upload.py), notice a re-upload, profile it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from accounts.models import User
from mappings.intake.dialect import DELIMITERS, MIXED_ENCODING, QUOTES, transcode_to_utf8
from mappings.intake.duck import file_layout
from mappings.intake.header import csv_write_from_row
from mappings.intake.upload import readable_dialect
from mappings.models import DataSource
from mappings.profiling.profile import ProfileError
from mappings.services.profile import data_source_profile
from mappings.services.storage import (
    upload_files_delete,
    upload_files_drop_local,
    upload_files_local,
    upload_files_publish,
)
from mappings.services.upload import UploadDuplicate, UploadRejected, data_source_create

# "dmy", "mdy", or a locale tag ("de", "en-US", "fr_CH"): how undecided day/month dates are read.
DATE_ORDER_PATTERN = re.compile(r"dmy|mdy|[A-Za-z]{2,3}([-_][A-Za-z]{2})?", re.IGNORECASE)


@dataclass(frozen=True)
class UploadResult:
    source: DataSource
    duplicate: bool
    message: str


def data_source_upload(*, file, name: str, user: User, domain: str = "") -> UploadResult:
    """Store and profile an upload. The same content uploaded again by the same user is not stored twice:
    the earlier upload is returned (`duplicate=True`) so the user can re-run its mapping instead.

    Raises UploadRejected (size, type, unreadable) or ProfileError. With an S3-compatible storage the upload's
    files are in the storage when this returns, and none is left on this server.
    """
    result = _upload(file=file, name=name, user=user, domain=domain)
    if not result.duplicate:
        upload_files_drop_local(result.source)
    return result


def _upload(*, file, name: str, user: User, domain: str) -> UploadResult:
    try:
        source = data_source_create(
            file=file, name=name, user=user, domain=domain, convert_later=True, refuse_duplicate=True
        )
    except UploadDuplicate as duplicate:
        earlier = duplicate.earlier
        when = earlier.upload_date.strftime("%Y-%m-%d %H:%M")
        return UploadResult(
            earlier,
            True,
            f"This file was already uploaded as #{earlier.pk} ({earlier.name}, {when}): "
            "re-run its mapping instead of loading the same rows twice.",
        )
    if source.status == DataSource.Status.CONVERTING:  # a big file: a task converts and profiles it
        return UploadResult(source, False, "Uploaded; converting it now.")
    try:
        data_source_profile(source=source)
    except ProfileError:
        raise  # recorded on the upload (status failed), which the user sees in the list
    except BaseException:
        _discard(source)  # a crash leaves no upload and no file behind
        raise
    return UploadResult(source, False, "Uploaded and profiled.")


def _discard(source: DataSource) -> None:
    upload_files_delete([p for p in (source.file_path, source.dialect.get("original_file")) if p])
    source.delete()


ENCODINGS = ("utf-8", "utf-8-sig", MIXED_ENCODING, "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1")


def data_source_dialect_override(
    *, source: DataSource, delimiter: str, quote: str, header: bool, encoding: str
) -> DataSource:
    """Read an upload again the way the user says it is written (the sniffer can be wrong), then profile it.

    A different encoding re-decodes the original bytes into the stored UTF-8 copy. Raises UploadRejected
    with a message for the user when a value is not offered or the file cannot be read that way.
    """
    with upload_files_local(source):
        return _dialect_override(source=source, delimiter=delimiter, quote=quote, header=header, encoding=encoding)


def _dialect_override(*, source: DataSource, delimiter: str, quote: str, header: bool, encoding: str) -> DataSource:
    if source.file_format != "csv":
        raise UploadRejected("A workbook is read by sheet and header row, not by delimiter, quote or encoding.")
    if delimiter not in DELIMITERS:
        raise UploadRejected("Choose a delimiter among comma, semicolon, tab and pipe.")
    if quote not in QUOTES:
        raise UploadRejected("Choose \" or ' as the quote character.")
    if encoding not in ENCODINGS:
        raise UploadRejected(f"Choose an encoding among {', '.join(ENCODINGS)}.")
    dialect = {**source.dialect, "delimiter": delimiter, "quote": quote, "header": bool(header)}
    original = source.dialect.get("original_file")
    if encoding != source.dialect.get("encoding") and source.file_format == "csv" and original:
        try:
            # Both write beside and rename over: the stored copy may be a hard link to the original.
            stored = Path(source.file_path)
            transcode_to_utf8(Path(original), stored, encoding)  # knows the mixed UTF-8/cp1252 reading too
            if dialect.get("header_row"):
                csv_write_from_row(stored, stored, readable_dialect(dialect), dialect["header_row"])
        except (OSError, LookupError) as exc:
            raise UploadRejected(f"The file cannot be decoded as {encoding}: {exc}") from exc
        dialect["encoding"] = encoding
        upload_files_publish(source)
    try:
        columns, rows, ragged = file_layout(source.file_path, dialect)
    except Exception as exc:  # DuckDB's parse errors are several classes; all mean "not this way"
        raise UploadRejected(f"The file cannot be read that way: {str(exc).splitlines()[0]}") from exc
    dialect["columns"], dialect["ragged"] = columns, ragged
    source.dialect, source.rows, source.profile = dialect, rows, {}
    source.save(update_fields=["dialect", "rows", "profile"])
    data_source_profile(source=source)
    return source


def data_source_set_date_order(*, source: DataSource, date_order: str | None) -> DataSource:
    """Read the dates whose day and month no value decides as day-first ("dmy") or month-first ("mdy"),
    or by a locale ("de", "en-US"), then profile the upload again. None forgets the choice. Raises
    UploadRejected for anything else."""
    if date_order is not None and not DATE_ORDER_PATTERN.fullmatch(date_order.strip()):
        raise UploadRejected("Choose the date order dmy (day first) or mdy (month first), or a locale such as de.")
    dialect = {k: v for k, v in source.dialect.items() if k != "date_order"}
    if date_order:
        dialect["date_order"] = date_order.strip()
    source.dialect = dialect
    source.save(update_fields=["dialect"])
    data_source_profile(source=source)
    return source


def date_order_option(opts: dict) -> str | None:
    """The date order of the `ingest` / `propose_mapping` options (--date-order dmy|mdy, --locale TAG)."""
    from django.core.management import CommandError

    value = opts.get("date_order") or opts.get("locale")
    if value and not DATE_ORDER_PATTERN.fullmatch(value.strip()):
        raise CommandError(f"--locale {value!r}: expected a locale tag such as de, fr or en-US")
    return value.strip() if value else None
