from __future__ import annotations

import codecs
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from mappings.services.upload import (
    UploadRejected,
    data_source_create,
    data_source_find_duplicate,
    upload_name_sanitize,
)

TEXT = "Kunde;Betrag;Stadt\nMüller GmbH;1.234,56;Köln\nCafé Zoë;12,50;Genève\n"


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def _read(source) -> str:
    with open(source.file_path, encoding="utf-8") as fh:
        return fh.read()


@pytest.mark.parametrize(
    ("encoding", "raw"),
    [
        ("utf-8", TEXT.encode("utf-8")),
        ("utf-8-sig", codecs.BOM_UTF8 + TEXT.encode("utf-8")),
        ("utf-16", TEXT.encode("utf-16")),
        ("cp1252", TEXT.encode("cp1252")),
    ],
)
def test_each_encoding_is_detected_and_stored_as_utf8(db, encoding, raw):
    source = data_source_create(file=io.BytesIO(raw), name="kunden.csv", user=None)

    assert source.dialect["encoding"] == encoding
    assert source.dialect["delimiter"] == ";"
    assert source.dialect["header"] is True
    assert source.dialect["columns"] == ["Kunde", "Betrag", "Stadt"]
    assert source.rows == 2
    assert "Müller GmbH;1.234,56;Köln" in _read(source)
    assert not _read(source).startswith("\ufeff") or encoding == "utf-8-sig"


@pytest.mark.parametrize(("delimiter", "expected"), [(",", ","), (";", ";"), ("\t", "\t"), ("|", "|")])
def test_delimiters_are_sniffed(db, delimiter, expected):
    text = delimiter.join(["id", "name", "amount"]) + "\n" + delimiter.join(["1", "Ann", "3.50"]) + "\n"
    source = data_source_create(file=io.BytesIO(text.encode()), name="x.csv", user=None)
    assert source.dialect["delimiter"] == expected
    assert source.dialect["columns"] == ["id", "name", "amount"]


def test_upload_records_sha256_size_and_uploader(db, executive):
    raw = b"id,name\n1,Ann\n"
    source = data_source_create(file=SimpleUploadedFile("people.csv", raw), name="people.csv", user=executive)
    import hashlib

    assert source.sha256 == hashlib.sha256(raw).hexdigest()
    assert source.size_bytes == len(raw)
    assert source.uploaded_by == executive
    assert source.status == "uploaded"


def test_storage_name_is_chosen_by_the_server_not_the_user(db, upload_dir):
    source = data_source_create(file=io.BytesIO(b"a,b\n1,2\n"), name="../../etc/pass\x00wd.csv", user=None)
    assert source.name == "passwd.csv"
    assert str(source.file_path).startswith(str(upload_dir))
    assert "passwd" not in source.file_path


def test_long_names_are_shortened():
    assert len(upload_name_sanitize("a" * 5000 + ".csv")) <= 200
    assert upload_name_sanitize("a" * 5000 + ".csv").endswith(".csv")


def test_file_past_the_limit_is_rejected_and_not_kept(db, settings, upload_dir):
    settings.UPLOAD_MAX_BYTES = 1024
    with pytest.raises(UploadRejected, match="larger than the upload limit"):
        data_source_create(file=io.BytesIO(b"a,b\n" + b"1,2\n" * 1000), name="big.csv", user=None)
    assert list(upload_dir.iterdir()) == []


def test_empty_file_is_rejected(db):
    with pytest.raises(UploadRejected, match="empty"):
        data_source_create(file=io.BytesIO(b""), name="e.csv", user=None)


def test_unsupported_type_is_rejected(db):
    with pytest.raises(UploadRejected, match="Unsupported file type"):
        data_source_create(file=io.BytesIO(b"MZ\x00\x00"), name="evil.exe", user=None)


def test_xlsx_first_sheet_becomes_csv(db):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Order", "Amount"])
    sheet.append(["A-1", 12.5])
    sheet.append(["A-2", 3])
    buf = io.BytesIO()
    workbook.save(buf)
    source = data_source_create(file=io.BytesIO(buf.getvalue()), name="orders.xlsx", user=None)
    assert source.file_format == "xlsx"
    assert source.rows == 2
    assert source.dialect["columns"] == ["Order", "Amount"]
    assert "A-2,3" in _read(source)


def test_reupload_of_the_same_content_is_found(db, executive):
    first = data_source_create(file=io.BytesIO(b"a,b\n1,2\n"), name="a.csv", user=executive)
    second = data_source_create(file=io.BytesIO(b"a,b\n1,2\n"), name="a-again.csv", user=executive)
    assert data_source_find_duplicate(sha256=second.sha256, user=executive, exclude_id=second.pk) == first
    assert data_source_find_duplicate(sha256="0" * 64, user=executive) is None


def test_upload_from_a_path(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("x,y\n1,2\n")
    source = data_source_create(file=path, user=None)
    assert source.name == "p.csv"
    assert source.rows == 1


def test_a_file_whose_values_span_lines_is_counted_and_profiled(db, executive, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("id,note\n" + "".join(f'{i},"line one\nline two of note {i}"\n' for i in range(4000)))

    source = data_source_create(file=path, name="notes.csv", user=executive)

    assert (source.rows, source.dialect["columns"], source.dialect["ragged"]) == (4000, ["id", "note"], None)
    assert source.dialect["quoted_newlines"] is True  # DuckDB pads such rows only when reading serially
