"""Profiling an upload and storing the result on it."""

from __future__ import annotations

from django.db import transaction

from mappings.intake.upload import pg_storable
from mappings.models import DataSource
from mappings.profiling.profile import ProfileError, profile_file
from mappings.services.storage import upload_files_local


@transaction.atomic
def data_source_profile(*, source: DataSource) -> dict:
    """Profile an upload and store the result in `source.profile` (status → profiled).

    Raises ProfileError (also recorded in `source.error`) when the file cannot be read as a table.
    """
    if source.status == DataSource.Status.CONVERTING:
        raise ProfileError("the upload is still being converted: its profile follows when that is done")
    # The stored file is always a UTF-8 CSV (upload.py transcodes and converts workbooks on the way in);
    # the dialect's encoding names the original's.
    dialect = {**source.dialect, "encoding": "utf-8"}
    try:
        with upload_files_local(source):
            document = profile_file(path=source.file_path, dialect=dialect, file_format="csv", total_rows=source.rows)
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
