"""The part of an upload profiling reads: the whole file when small, byte ranges across it when big."""

from __future__ import annotations

import codecs
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mappings.intake.dialect import decode_errors, python_codec

SAMPLE_BYTES = 1024 * 1024  # ~15k rows from 16 byte ranges: enough to settle types, formats and locales


SAMPLE_CHUNKS = 16  # byte ranges a big file's sample is read from: its head and 15 spread over the rest


@dataclass
class Sample:
    """What `readable_csv` hands to DuckDB: a UTF-8 path, whether it is only part of the file, and the
    share of the file's bytes it holds (to estimate the row count without reading the file)."""

    path: str
    sampled: bool
    bytes_read: int
    file_bytes: int
    spread: bool  # True when read from byte ranges across the file, False for the file's head only


@contextmanager
def readable_csv(path: str | os.PathLike, dialect: dict, *, max_bytes: int | None = None) -> Iterator[Sample]:
    """A UTF-8 sample of the file DuckDB can read for profiling.

    Small UTF-8 files are read in place. A big UTF-8 file is sampled by byte ranges: its head (with the
    header) and SAMPLE_CHUNKS - 1 ranges spread evenly over the rest, each cut to whole lines, so a file
    sorted by date shows all its months and nothing reads the whole file. When the head shows values
    spanning lines (quoted line breaks), a cut could land inside one, so only the head is used. Other
    encodings: the head is decoded into a temporary UTF-8 file.
    """
    path = Path(path)
    max_bytes = max_bytes or SAMPLE_BYTES
    encoding = (dialect.get("encoding") or "utf-8").lower().replace("_", "-")
    size = path.stat().st_size
    utf8 = encoding in ("utf-8", "utf8", "ascii", "us-ascii", "utf-8-sig")
    if utf8 and size <= max_bytes:
        yield Sample(str(path), False, size, size, False)
        return
    with path.open("rb") as fh:
        if utf8:
            data, spread = _byte_range_sample(fh, size, max_bytes, dialect.get("quote") or '"')
            text = data.decode("utf-8-sig", errors="replace")
        else:
            head = fh.read(max_bytes)
            decoder = codecs.getincrementaldecoder(python_codec(encoding))(errors=decode_errors(encoding))
            text = decoder.decode(head, final=size <= max_bytes)
            data, spread = head, False
    sampled = size > max_bytes
    if sampled and not spread and "\n" in text:
        text = text[: text.rfind("\n") + 1]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", encoding="utf-8", delete=False, newline="") as tmp:
        tmp.write(text.lstrip("\ufeff"))
    try:
        yield Sample(tmp.name, sampled, len(data), size, spread)
    finally:
        os.unlink(tmp.name)


def _byte_range_sample(fh, size: int, max_bytes: int, quote: str) -> tuple[bytes, bool]:
    """The head of a big UTF-8 file plus whole lines from ranges spread across it (see readable_csv).

    A newline byte never occurs inside a multi-byte UTF-8 character, so cutting at b"\\n" is safe.
    """
    chunk = max_bytes // SAMPLE_CHUNKS
    head = fh.read(chunk)
    head = head[: head.rfind(b"\n") + 1]
    q = quote.encode()
    if not head or any(line.count(q) % 2 for line in head.split(b"\n")):
        fh.seek(0)
        data = fh.read(max_bytes)
        return data[: data.rfind(b"\n") + 1] or data, False
    parts = [head]
    last_start = size - chunk
    for i in range(1, SAMPLE_CHUNKS):
        fh.seek(len(head) + (last_start - len(head)) * i // (SAMPLE_CHUNKS - 1))
        block = fh.read(chunk)
        start = block.find(b"\n") + 1  # drop the partial line the range starts in
        end = block.rfind(b"\n") + 1
        if 0 < start < end:
            parts.append(block[start:end])
    return b"".join(parts), True
