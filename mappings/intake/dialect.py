"""How an uploaded file is written: encoding, delimiter, quote character, header.

Uploads are sniffed once at upload time; the result is stored in `DataSource.dialect` and every reader
(profiling, proposing, execution) uses it through `duckdb_read_csv_options`. DuckDB reads UTF-8 only
(other encodings need an extension download, which is impossible offline), so files in other encodings
are transcoded to UTF-8 by `transcode_to_utf8`, streaming, before anything reads them.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

SAMPLE_BYTES = 256 * 1024
# csv.Sniffer's quote regexes are quadratic in the quotes that never close (values written '0123):
# it reads the sample's first whole lines up to this many characters, never the whole sample.
SNIFF_CHARS = 8 * 1024
DELIMITERS = (",", ";", "\t", "|")
QUOTES = ('"', "'")
_CHUNK = 1024 * 1024
# A file with both UTF-8 text and bytes that are not UTF-8 (rows pasted from two exports): read as UTF-8,
# each byte that is not UTF-8 read as cp1252. The upload warns, and the user may choose one encoding.
MIXED_ENCODING = "utf-8+cp1252"
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
RAGGED_EXTRA = 8  # fields past the header a row may have and still be read whole (and reported)


@dataclass(frozen=True)
class Dialect:
    encoding: str  # the file's own encoding: utf-8, utf-8-sig, utf-16, utf-32, cp1252, latin-1
    delimiter: str
    quote: str
    header: bool = True

    def as_json(self) -> dict:
        return {"encoding": self.encoding, "delimiter": self.delimiter, "quote": self.quote, "header": self.header}


def sniff_encoding(sample: bytes) -> str:
    """The encoding of a file from its first bytes: BOMs first, then strict UTF-8, then a best guess.

    A UTF-8 decode error in the very last bytes of the sample is a multi-byte character cut by the
    sample boundary, not a sign of another encoding.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE begins both
        return "utf-32"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _looks_like_bomless_utf16(sample):
        return "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and exc.reason in ("unexpected end of data",):
            return "utf-8"
    guess = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "utf_16"]).best()
    if guess is not None and guess.encoding in ("utf_16", "utf_16_le", "utf_16_be"):
        return guess.encoding.replace("_", "-")
    # cp1252 is a superset of latin-1's printable range and what Excel on Windows writes.
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _looks_like_bomless_utf16(sample: bytes) -> bool:
    head = sample[:200]
    if len(head) < 4:
        return False
    zeros_odd = head[1::2].count(0)
    zeros_even = head[0::2].count(0)
    half = len(head) // 2
    return zeros_odd > half * 0.7 or zeros_even > half * 0.7


def sniff_text_dialect(text: str) -> tuple[str, str]:
    """(delimiter, quote) of a CSV text sample; falls back to counting candidates in the header line."""
    lines = text.splitlines()
    # The last line of a sample may be cut in the middle; leave it out.
    sample = sniffer_sample(lines[:-1] if len(lines) > 2 else lines)
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS))
        delimiter = sniffed.delimiter
        quote = sniffed.quotechar if sniffed.quotechar in QUOTES else '"'
    except csv.Error:
        header = lines[0] if lines else ""
        counts = {d: header.count(d) for d in DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
        quote = '"'
    if delimiter not in DELIMITERS:
        delimiter = ","
    return delimiter, quote


def sniffer_sample(lines: list[str]) -> str:
    """The first whole lines within SNIFF_CHARS (the first line cut to it when it alone is longer)."""
    taken, size = [], 0
    for line in lines:
        if size + len(line) + 1 > SNIFF_CHARS:
            break
        taken.append(line)
        size += len(line) + 1
    return "\n".join(taken) if taken else (lines[0][:SNIFF_CHARS] if lines else "")


def sniff_file(path: Path) -> Dialect:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    encoding = sniff_encoding(sample)
    text = sample.decode(python_codec(encoding), errors="ignore")  # the delimiter needs no accents
    delimiter, quote = sniff_text_dialect(text.lstrip("\ufeff"))
    return Dialect(encoding=encoding, delimiter=delimiter, quote=quote)


def python_codec(encoding: str) -> str:
    """The Python codec that decodes an upload's encoding (the mixed reading decodes as UTF-8 …"""
    return {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", MIXED_ENCODING: "utf-8"}.get(encoding, encoding)


def decode_errors(encoding: str) -> str:
    """… with each byte that is not UTF-8 read as cp1252)."""
    return "ledgerlight-cp1252" if encoding == MIXED_ENCODING else "replace"


def _invalid_utf8_as_cp1252(exc: UnicodeDecodeError) -> tuple[str, int]:
    return exc.object[exc.start : exc.end].decode("cp1252", errors="replace"), exc.end


codecs.register_error("ledgerlight-cp1252", _invalid_utf8_as_cp1252)


def utf8_evidence(path: Path, *, max_bytes: int | None = None) -> tuple[int, bool]:
    """(byte sequences that are not UTF-8, whether there is multi-byte UTF-8 text) over the file (streamed)
    or its first `max_bytes`. Both at once mean a mixed file: decoded as cp1252 alone, its UTF-8 text turns
    into mojibake.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    invalid, multibyte, left = 0, False, max_bytes
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK if left is None else min(_CHUNK, left)):
            if left is not None:
                left -= len(chunk)
            text = decoder.decode(chunk)
            if not chunk.isascii():
                invalid += max(text.count("\ufffd") - chunk.count(b"\xef\xbf\xbd"), 0)
                # Found at the first accent of a UTF-8 file; only text without any scans a whole chunk.
                multibyte = multibyte or _UTF8_MULTIBYTE.search(chunk) is not None
    invalid += decoder.decode(b"", final=True).count("\ufffd")
    return invalid, multibyte


def encoding_from_evidence(sniffed: str, path: Path) -> tuple[str, dict | None]:
    """The encoding to read a file in, and for a file mixing UTF-8 and cp1252 what the upload warns about."""
    if sniffed not in ("utf-8", "utf-8-sig", "cp1252", "latin-1"):
        return sniffed, None
    # A UTF-8 sample: the rest of the file must be UTF-8 too (fast when it is). A cp1252 sample: its UTF-8
    # text, if any, is looked for in the sample only (decoding a whole cp1252 file is slow).
    invalid, multibyte = utf8_evidence(path, max_bytes=None if sniffed.startswith("utf-8") else SAMPLE_BYTES)
    if not invalid:
        return sniffed, None
    if multibyte:
        return MIXED_ENCODING, {"not_utf8": invalid}
    return ("cp1252" if sniffed.startswith("utf-8") else sniffed), None


def needs_transcoding(encoding: str) -> bool:
    """DuckDB reads UTF-8 (a BOM is fine); everything else is converted first."""
    return encoding not in ("utf-8", "utf-8-sig")


def transcode_to_utf8(src: Path, dest: Path, encoding: str) -> None:
    """Copy `src` in `encoding` to `dest` in UTF-8, a chunk at a time (never the whole file in memory).

    Written beside `dest` and moved onto it: `dest` may be a hard link to `src` (a UTF-8 upload read
    again in another encoding), which writing in place would truncate before it is read.
    """
    decoder = codecs.getincrementaldecoder(python_codec(encoding))(errors=decode_errors(encoding))
    partial = dest.with_name(dest.name + ".partial")
    try:
        with src.open("rb") as fin, partial.open("wb") as fout:
            first = True
            while chunk := fin.read(_CHUNK):
                text = decoder.decode(chunk)
                if first:
                    text = text.lstrip("\ufeff")
                    first = False
                fout.write(text.encode("utf-8"))
            fout.write(decoder.decode(b"", final=True).encode("utf-8"))
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)


def header_width(csv_path: str | Path, dialect: dict) -> int | None:
    """How many fields the header line of a UTF-8 CSV has (read with its delimiter and quote)."""
    with open(csv_path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = next(
            csv.reader(fh, delimiter=dialect.get("delimiter") or ",", quotechar=dialect.get("quote") or '"'), None
        )
    return len(first) if first else None


def _quoting(dialect: dict) -> dict:
    return {
        "delim": dialect.get("delimiter", ","),
        "quote": dialect.get("quote", '"'),
        "escape": dialect.get("quote", '"'),
    }


def _padding(dialect: dict) -> dict:
    """Short rows padded with NULLs, long ones kept (they are found and reported, not fatal)."""
    return {
        "null_padding": True,
        "strict_mode": False,
        # DuckDB's parallel reader cannot pad rows when values span lines; such files are read serially.
        "parallel": not dialect.get("quoted_newlines", False),
    }


def positional_read_csv_options(dialect: dict, width: int) -> dict:
    """`read_csv` options naming the fields by position, c0 … c{width + RAGGED_EXTRA - 1}, all text.

    Nothing is sniffed: a row with more fields than the header's `width` keeps them in the columns past
    c{width - 1} instead of shifting into (or being cut from) the header's columns, so it can be told apart.
    """
    return {
        **_quoting(dialect),
        "header": True,
        "auto_detect": False,
        "columns": {f"c{i}": "VARCHAR" for i in range(width + RAGGED_EXTRA)},
        **_padding(dialect),
    }


def duckdb_read_csv_options(dialect: dict) -> dict:
    """Keyword arguments for DuckDB's `read_csv` for a stored dialect; every column is read as text.

    Use them as bound parameters: `read_csv(?, delim := ?, ...)` or the Python relational API.
    """
    return {**_quoting(dialect), "header": bool(dialect.get("header", True)), "all_varchar": True, **_padding(dialect)}
