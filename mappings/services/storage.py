"""Upload files through Django's storage API (`STORAGES["default"]`), so web and workers need not share a disk.

An upload is two files, the original (`dialect["original_file"]`) and the readable UTF-8 CSV (`file_path`), both
named `uploads/<uuid>.<ext>` in the storage. DuckDB reads only local files:
- a process that only reads the upload (profile, scan, previews, execution) holds `upload_readable_local(source)`:
  `source.file_path` names, for the block, the local copy of the stored readable CSV kept under UPLOAD_CACHE_DIR
  (mappings/intake/upload_cache.py: fetched once per version of the stored object, reused while intact, the
  directory trimmed to UPLOAD_CACHE_MAX_MB). DuckDB reads that one local copy, nothing else.
- a process that writes the upload's files again (conversion, another sheet, header row or encoding) holds
  `upload_files_local(source)`, which fetches the files it lacks to their path under UPLOAD_DIR, and removes
  what it fetched when the block ends; `upload_files_publish` stores what it wrote.

With the default filesystem storage the files under UPLOAD_DIR are the stored files (one machine, or a shared
directory): publishing, fetching and removing are no-ops. With an S3-compatible store (UPLOAD_STORAGE=s3)
UPLOAD_DIR is scratch space, at the same path on every machine (the path is stored on the upload).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages

from mappings.intake.upload_cache import cache_forget, cache_seed, cached_copy
from mappings.models import DataSource

logger = logging.getLogger(__name__)
STORAGE_FOLDER = "uploads"


def upload_storage_is_local() -> bool:
    return isinstance(storages["default"], FileSystemStorage)


def _storage_name(path: str | Path) -> str:
    return f"{STORAGE_FOLDER}/{Path(path).name}"


def _paths(source: DataSource) -> list[Path]:
    return [Path(p) for p in (source.file_path, (source.dialect or {}).get("original_file")) if p]


def upload_files_publish(source: DataSource) -> None:
    """Copy the upload's local files into the storage (again after a re-conversion rewrote the readable CSV)."""
    if upload_storage_is_local():
        return
    storage = storages["default"]
    for path in _paths(source):
        if not path.is_file():
            continue  # a big upload's readable CSV is written by the conversion task, which publishes it then
        name = _storage_name(path)
        if storage.exists(name):
            storage.delete(name)  # overwritten: `save` would pick another name
        with path.open("rb") as fh:
            saved = storage.save(name, File(fh, name=path.name))
        if saved != name:
            raise RuntimeError(f"the storage stored upload file {name} as {saved}")
        if str(path) == source.file_path:  # what readers read: kept as this version's cached copy
            cache_seed(storage, name, path, **_cache())


def _cache() -> dict:
    return {"directory": Path(settings.UPLOAD_CACHE_DIR), "max_bytes": settings.UPLOAD_CACHE_MAX_MB * 1024 * 1024}


@contextmanager
def upload_readable_local(source: DataSource) -> Iterator[DataSource]:
    """For the block, `source.file_path` is a local copy of the stored readable CSV, for reading only.

    With an S3-compatible storage that is the cached copy of the version the storage holds now (fetched if this
    machine has none, or none intact), held so that no trim removes it; the path on the upload is restored
    after. With the filesystem storage, a file the storage does not hold (an upload from before the storage,
    or one still being written) or a nested block, the path is left as it is.
    """
    if upload_storage_is_local() or not source.file_path or getattr(source, "_readable_stored_path", None):
        yield source
        return
    stored_path = source.file_path
    with cached_copy(storages["default"], _storage_name(stored_path), **_cache()) as copy:
        if copy is None:
            yield source
            return
        source.file_path, source._readable_stored_path = str(copy), stored_path
        try:
            yield source
        finally:
            source.file_path, source._readable_stored_path = stored_path, None


@contextmanager
def upload_files_local(source: DataSource) -> Iterator[DataSource]:
    """The upload's files at their local paths for the block; those fetched from the storage are removed after.

    A file the storage does not hold either (an upload from before the storage, or removed) is left missing:
    the reader fails on it as it always did, naming the file.
    """
    fetched: list[Path] = []
    try:
        if not upload_storage_is_local():
            storage = storages["default"]
            for path in _paths(source):
                if path.is_file() or not storage.exists(_storage_name(path)):
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
                with storage.open(_storage_name(path), "rb") as remote, partial.open("wb") as local:
                    for chunk in iter(lambda: remote.read(1024 * 1024), b""):
                        local.write(chunk)
                os.replace(partial, path)  # whole or not at all: a reader never sees half a file
                fetched.append(path)
        yield source
    finally:
        for path in fetched:
            path.unlink(missing_ok=True)


def upload_files_drop_local(source: DataSource) -> None:
    """Remove the files at their upload path once they are in the storage (the web server keeps no uploads of its
    own; the cached copy of the readable CSV stays, within UPLOAD_CACHE_MAX_MB)."""
    if upload_storage_is_local():
        return
    for path in _paths(source):
        path.unlink(missing_ok=True)


def upload_files_delete(paths: list[str | Path]) -> None:
    """Remove an upload's files, local (this machine's cached copies too) and stored."""
    for path in paths:
        Path(path).unlink(missing_ok=True)
    if upload_storage_is_local():
        return
    storage = storages["default"]
    for path in paths:
        cache_forget(_storage_name(path), directory=_cache()["directory"])
        try:
            storage.delete(_storage_name(path))
        except Exception:  # noqa: BLE001 - an orphan object costs storage, not correctness
            logger.warning("could not delete upload file %s from the storage", path, exc_info=True)
