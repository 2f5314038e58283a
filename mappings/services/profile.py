"""Profiling an upload and storing the result on it."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import transaction

from mappings.intake.upload import pg_storable, readable_dialect
from mappings.models import DataSource
from mappings.profiling.profile import ProfileError, profile_file, profile_file_figures
from mappings.services.storage import upload_readable_local


@transaction.atomic
def data_source_profile(*, source: DataSource, file_figures: bool | None = None) -> dict:
    """Profile an upload and store the result in `source.profile` (status → profiled).

    The number and date ranges are the whole file's when `file_figures` (by default: when the file is
    small enough to be scanned in the request, or has been scanned already); else the sample's, labelled
    so, until the scan after the upload replaces them (`data_source_profile_figures`).
    Raises ProfileError (also recorded in `source.error`) when the file cannot be read as a table.
    """
    if source.status == DataSource.Status.CONVERTING:
        raise ProfileError("the upload is still being converted: its profile follows when that is done")
    # The stored file is always a UTF-8 CSV (upload.py transcodes and converts workbooks on the way in);
    # the dialect's encoding names the original's.
    dialect = readable_dialect(source.dialect)
    try:
        with upload_readable_local(source):
            if file_figures is None:
                file_figures = (
                    "ragged" in source.dialect or os.path.getsize(source.file_path) <= settings.UPLOAD_SCAN_SYNC_BYTES
                )
            document = profile_file(
                path=source.file_path,
                dialect=dialect,
                file_format="csv",
                total_rows=source.rows,
                file_figures=file_figures,
            )
    except (ProfileError, OSError, UnicodeError) as exc:
        source.error = str(exc)
        source.status = DataSource.Status.FAILED
        source.save(update_fields=["error", "status"])
        raise ProfileError(str(exc)) from exc
    document = pg_storable(document)  # sample values may hold a NUL byte, which jsonb refuses
    if "ragged" in source.dialect:  # counted over the whole file at upload: exact, with row numbers
        document["ragged"] = source.dialect["ragged"]
    source.profile = document
    if source.rows is None and not document["sampled"]:
        source.rows = document["rows"]
    if source.status == DataSource.Status.UPLOADED:
        source.status = DataSource.Status.PROFILED
    source.save(update_fields=["profile", "rows", "status"])
    return document


def data_source_profile_figures(*, source: DataSource) -> DataSource:
    """Replace a stored profile's sample ranges of numbers and dates by the whole file's (after the upload,
    in the worker that scans a big file). A profile not yet stored or already whole-file is left alone."""
    profile = source.profile or {}
    if not profile.get("columns") or all(c.get("figures") == "file" for c in profile["columns"]):
        return source
    with upload_readable_local(source):
        document = profile_file_figures(
            path=source.file_path, dialect=readable_dialect(source.dialect), document=profile
        )
    if document is None:
        return source
    with transaction.atomic():
        locked = DataSource.objects.select_for_update().get(pk=source.pk)
        if locked.profile.get("columns") != profile["columns"]:  # profiled again meanwhile: that one stands
            return locked
        locked.profile = {**locked.profile, "columns": pg_storable(document["columns"])}
        locked.save(update_fields=["profile"])
    return locked
