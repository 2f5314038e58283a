"""Taking in an upload end to end: store it (upload.py), notice a re-upload, profile it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accounts.models import User
from mappings.models import DataSource
from mappings.services.profile import data_source_profile
from mappings.services.upload import data_source_create, data_source_find_duplicate


@dataclass(frozen=True)
class UploadResult:
    source: DataSource
    duplicate: bool
    message: str


def data_source_upload(*, file, name: str, user: User, domain: str = "") -> UploadResult:
    """Store and profile an upload. The same content uploaded again by the same user is not stored twice:
    the earlier upload is returned (`duplicate=True`) so the user can re-run its mapping instead.

    Raises UploadRejected (size, type, unreadable) or ProfileError.
    """
    source = data_source_create(file=file, name=name, user=user, domain=domain)
    earlier = data_source_find_duplicate(sha256=source.sha256, user=user, exclude_id=source.pk)
    if earlier is not None:
        _discard(source)
        when = earlier.upload_date.strftime("%Y-%m-%d %H:%M")
        return UploadResult(
            earlier,
            True,
            f"This file was already uploaded as #{earlier.pk} ({earlier.name}, {when}): "
            "re-run its mapping instead of loading the same rows twice.",
        )
    data_source_profile(source=source)
    return UploadResult(source, False, "Uploaded and profiled.")


def _discard(source: DataSource) -> None:
    for path in (source.file_path, source.dialect.get("original_file")):
        if path:
            Path(path).unlink(missing_ok=True)
    source.delete()
