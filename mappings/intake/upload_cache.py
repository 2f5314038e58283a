"""Local copies of stored uploads, kept between reads, in a directory of bounded size (UPLOAD_STORAGE=s3).

DuckDB reads local files only. Rather than fetch an upload from the store for each read (each preview of the
review page, each execution on a worker), a process reads it through `cached_copy`: one HEAD asks the store
which version of the object it holds (ETag and size), and the local copy of that version is used when it is
there and intact, else fetched once. An entry is named by the stored object's name and version, so an object
written again (a re-conversion, on any machine) is a new entry: an old copy is never read for it.

Each entry is three files in the cache directory: the copy (`<stem>-<digest><suffix>`), `.json` (the version
it holds and the copy's size, mtime and inode when written: a copy changed on disk since is fetched again) and
`.lock`, which a reading block holds shared (its mtime is the entry's last use). Trimming to the size bound
removes the least recently used entries no block holds, so a copy is never removed under a reader.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from botocore.exceptions import ClientError

TRIM_GUARD = ".trim.lock"
STALE_SECONDS = 3600  # a partial download or an empty entry this old belongs to a process that died
FETCH_ATTEMPTS = 3  # the object may be written again between the HEAD and the GET
CHUNK = 1024 * 1024
_PLAIN_MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class StoredVersion:
    """Which bytes the storage holds under `name`: S3's ETag (else the modified time) and the size."""

    name: str
    tag: str
    size: int


class CopyMismatch(OSError):
    """The bytes fetched are not those of the version the store described."""


def _entry(directory: Path, version: StoredVersion) -> Path:
    key = hashlib.sha256(f"{version.name}\n{version.tag}\n{version.size}".encode()).hexdigest()[:24]
    name = PurePosixPath(version.name)
    return directory / f"{name.stem}-{key}{name.suffix}"  # the suffix kept: DuckDB infers compression from it


def _meta(entry: Path) -> Path:
    return entry.with_name(entry.name + ".json")


def _lock_file(entry: Path) -> Path:
    return entry.with_name(entry.name + ".lock")


def _stored(storage, name: str):
    """(version, open remote file) of `name`, or None when the storage does not hold it. With django-storages'
    S3 backend opening is one HEAD (nothing is downloaded until read)."""
    try:
        remote = storage.open(name, "rb")
    except FileNotFoundError:
        return None
    obj = getattr(remote, "obj", None)
    if obj is not None:
        return StoredVersion(name, obj.e_tag.strip('"'), int(obj.content_length)), remote
    return StoredVersion(name, storage.get_modified_time(name).isoformat(), int(storage.size(name))), remote


def _lock(path: Path, mode: int, *, wait: bool = True) -> int | None:
    """A descriptor holding `mode` on the lock file at `path` (created if missing); None if busy and not `wait`.

    A trim removes a lock file while holding it: a process that opened it before and locked it after holds a
    lock on a file no longer there, so the lock is taken again on the file at the path."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _intact(entry: Path, version: StoredVersion) -> bool:
    try:
        meta = json.loads(_meta(entry).read_text())
        stat = entry.stat()
    except (OSError, ValueError):
        return False
    return (
        meta.get("name") == version.name
        and meta.get("tag") == version.tag
        and meta.get("size") == version.size == stat.st_size
        and meta.get("mtime_ns") == stat.st_mtime_ns
        and meta.get("ino") == stat.st_ino
    )


def _write_meta(entry: Path, version: StoredVersion) -> None:
    stat = entry.stat()
    meta = {
        "name": version.name,
        "tag": version.tag,
        "size": version.size,
        "mtime_ns": stat.st_mtime_ns,
        "ino": stat.st_ino,
    }
    partial = entry.with_name(f".{entry.name}.{uuid.uuid4().hex}.part")
    partial.write_text(json.dumps(meta))
    os.replace(partial, _meta(entry))


def _fetch(storage, remote, version: StoredVersion, entry: Path) -> None:
    """Write the stored bytes of `version` to `entry`, whole or not at all, checked against the version."""
    partial = entry.with_name(f".{entry.name}.{uuid.uuid4().hex}.part")
    md5 = hashlib.md5(usedforsecurity=False)
    written = 0
    try:
        with partial.open("wb") as local:
            obj = getattr(remote, "obj", None)
            if obj is not None:  # one GET, refused (412) if the object changed since the HEAD
                stream = obj.get(IfMatch=f'"{version.tag}"')["Body"]
                chunks = iter(lambda: stream.read(CHUNK), b"")
            else:
                chunks = iter(lambda: remote.read(CHUNK), b"")
            for chunk in chunks:
                md5.update(chunk)
                written += len(chunk)
                local.write(chunk)
        if written != version.size:
            raise CopyMismatch(f"{version.name}: fetched {written} bytes of {version.size}")
        if _PLAIN_MD5.fullmatch(version.tag) and md5.hexdigest() != version.tag:  # a multipart ETag is no MD5
            raise CopyMismatch(f"{version.name}: the bytes fetched do not match the stored object's ETag")
        _meta(entry).unlink(missing_ok=True)
        os.replace(partial, entry)
        _write_meta(entry, version)
    finally:
        partial.unlink(missing_ok=True)


def _hold(storage, remote, version: StoredVersion, entry: Path, max_bytes: int) -> int:
    """A descriptor holding the shared lock of an intact `entry`, fetched first if it was missing or changed."""
    lock = _lock_file(entry)
    while True:
        fd = _lock(lock, fcntl.LOCK_SH)
        if _intact(entry, version):
            os.utime(lock)  # the least recently used go first
            return fd
        os.close(fd)
        fd = _lock(lock, fcntl.LOCK_EX)  # one process fetches; the others wait for its copy
        try:
            if not _intact(entry, version):
                cache_trim(entry.parent, max_bytes - version.size)
                _fetch(storage, remote, version, entry)
        finally:
            os.close(fd)
        # Shared next: a trim may take the entry between the two locks, then it is fetched again.


@contextmanager
def cached_copy(storage, name: str, *, directory: Path, max_bytes: int) -> Iterator[Path | None]:
    """The local copy of stored file `name` for the block, or None when the storage does not hold it.

    The copy is the stored object's current version; it stays in `directory` after the block until trimmed
    (to `max_bytes`, least recently used first; a copy bigger than that goes when no block holds it).
    Raises CopyMismatch when the store keeps answering with bytes other than the version it described.
    """
    directory.mkdir(parents=True, exist_ok=True)
    fd = None
    for attempt in range(FETCH_ATTEMPTS):
        found = _stored(storage, name)
        if found is None:
            break
        version, remote = found
        try:
            fd = _hold(storage, remote, version, _entry(directory, version), max_bytes)
            break
        except (ClientError, CopyMismatch) as exc:
            changed = isinstance(exc, CopyMismatch) or exc.response.get("Error", {}).get("Code") in (
                "PreconditionFailed",
                "412",
            )
            if not changed or attempt == FETCH_ATTEMPTS - 1:
                raise
        finally:
            remote.close()
    if fd is None:
        yield None
        return
    try:
        yield _entry(directory, version)
    finally:
        os.close(fd)
        cache_trim(directory, max_bytes)


def cache_seed(storage, name: str, path: Path, *, directory: Path, max_bytes: int) -> None:
    """Keep `path`, just stored as `name`, as the cached copy of that version (a hard link, no bytes copied),
    so the process that stored it does not fetch it back. Skipped if the store holds other bytes by now."""
    found = _stored(storage, name)
    if found is None:
        return
    version, remote = found
    remote.close()
    try:
        size = path.stat().st_size
        if size != version.size or size > max_bytes:
            return
        if _PLAIN_MD5.fullmatch(version.tag) and _md5(path) != version.tag:
            return
        directory.mkdir(parents=True, exist_ok=True)
        entry = _entry(directory, version)
        fd = _lock(_lock_file(entry), fcntl.LOCK_EX, wait=False)
        if fd is None:
            return  # a block reads this version already: it is cached
        try:
            if not _intact(entry, version):
                partial = entry.with_name(f".{entry.name}.{uuid.uuid4().hex}.part")
                os.link(path, partial)  # another file system: no seed, the first read fetches it
                _meta(entry).unlink(missing_ok=True)
                os.replace(partial, entry)
                _write_meta(entry, version)
            os.utime(_lock_file(entry))
        finally:
            os.close(fd)
    except OSError:
        return
    cache_trim(directory, max_bytes)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remove(entry: Path) -> None:
    for path in (entry, _meta(entry), _lock_file(entry)):  # the lock last: it is what others wait on
        path.unlink(missing_ok=True)


def cache_forget(name: str, *, directory: Path) -> None:
    """Remove the cached copies of stored file `name` (every version) that no block holds."""
    stored = PurePosixPath(name)
    for lock in directory.glob(f"{_glob_escape(stored.stem)}-*{_glob_escape(stored.suffix)}.lock"):
        entry = lock.with_name(lock.name.removesuffix(".lock"))
        fd = _lock(lock, fcntl.LOCK_EX, wait=False)
        if fd is None:
            continue  # being read: trimmed later
        try:
            meta = json.loads(_meta(entry).read_text()) if _meta(entry).exists() else {}
            if meta.get("name", name) == name:
                _remove(entry)
        except (OSError, ValueError):
            _remove(entry)
        finally:
            os.close(fd)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def cache_trim(directory: Path, max_bytes: int) -> None:
    """Remove least recently used entries no block holds until the copies take at most `max_bytes`; also the
    leftovers of processes that died while fetching. One process trims at a time; others skip it."""
    if not directory.is_dir():
        return
    guard = _lock(directory / TRIM_GUARD, fcntl.LOCK_EX, wait=False)
    if guard is None:
        return
    try:
        now = time.time()
        entries = []
        for lock in directory.glob("*.lock"):
            if lock.name == TRIM_GUARD:
                continue
            entry = lock.with_name(lock.name.removesuffix(".lock"))
            with contextlib.suppress(FileNotFoundError):
                used = lock.stat().st_mtime
                size = entry.stat().st_size if entry.exists() else 0
                entries.append((used, size, entry))
        total = sum(size for _, size, _ in entries)
        for used, size, entry in sorted(entries, key=lambda e: e[0]):
            if total <= max_bytes and (size or now - used < STALE_SECONDS):
                continue
            fd = _lock(_lock_file(entry), fcntl.LOCK_EX, wait=False)
            if fd is None:
                continue  # a block reads it
            try:
                _remove(entry)
            finally:
                os.close(fd)
            total -= size
        for partial in directory.glob(".*.part"):
            with contextlib.suppress(FileNotFoundError):
                if now - partial.stat().st_mtime > STALE_SECONDS:
                    partial.unlink()
    finally:
        os.close(guard)
