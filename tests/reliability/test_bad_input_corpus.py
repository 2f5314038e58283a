"""Every file of the bad-input corpus (tests/data/bad/) gets a clear, specific answer, and loads nothing.

Each goes through the upload path as a user's file would (`data_source_create`, what the upload page
and `POST /api/sources/` call); a refused file leaves no stored file and no data source, and no file
changes a canonical table.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.apps import apps

from mappings.models import DataSource
from mappings.services.upload import UploadRejected, data_source_create
from tests.data.bad import make_corpus

BAD = Path(make_corpus.__file__).resolve().parent

# file -> the message a refused upload gives (a regex), or None when the upload is accepted (checked below)
REFUSED = {
    "empty.csv": r"^The file is empty\.$",
    "header_only.csv": r"header row \(3 columns\) but no data rows",
    "unclosed_quote.csv": r"unclosed quote",
    "binary_garbage.csv": r"binary file, not a CSV",
}
ACCEPTED = {
    "duplicate_and_blank_headers.csv",
    "ragged_rows.csv",
    "utf16_bom.csv",
    "cp1252.csv",
    "mixed_date_formats.csv",
    "formula_cells.csv",
    "xss_values.csv",
}


def canonical_counts() -> dict[str, int]:
    return {m._meta.db_table: m.objects.count() for m in apps.get_app_config("canonical").get_models()}


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


@pytest.fixture
def unchanged_canonical_tables(nw_employees):
    before = canonical_counts()
    yield
    assert canonical_counts() == before


def _stored_files(upload_dir: Path) -> list[Path]:
    return list(upload_dir.iterdir()) if upload_dir.exists() else []


def test_every_committed_corpus_file_has_an_expectation():
    files = {p.name for p in BAD.iterdir() if p.is_file() and p.suffix != ".py"}
    assert files == set(REFUSED) | ACCEPTED


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_bad_file_is_refused_with_a_specific_message(name, executive, upload_dir, unchanged_canonical_tables):
    with pytest.raises(UploadRejected, match=REFUSED[name]) as refused:
        data_source_create(file=BAD / name, user=executive)
    assert str(upload_dir) not in str(refused.value)  # never the server's paths
    assert DataSource.objects.count() == 0
    assert _stored_files(upload_dir) == []


def test_duplicate_and_blank_headers_get_unique_names(executive, unchanged_canonical_tables):
    source = data_source_create(file=BAD / "duplicate_and_blank_headers.csv", user=executive)
    columns = source.dialect["columns"]
    assert len(columns) == len(set(columns)) == 6
    assert all(c.strip() for c in columns)
    assert columns[:3] == ["id", "name", "name_1"]


def test_ragged_rows_are_read_with_every_row_kept(executive, unchanged_canonical_tables):
    source = data_source_create(file=BAD / "ragged_rows.csv", user=executive)
    assert source.rows == 4
    assert source.dialect["columns"][:3] == ["id", "name", "amount"]


@pytest.mark.parametrize(("name", "encoding"), [("utf16_bom.csv", "utf-16"), ("cp1252.csv", "cp1252")])
def test_other_encodings_are_read_as_their_text(name, encoding, executive, unchanged_canonical_tables):
    source = data_source_create(file=BAD / name, user=executive)
    assert source.dialect["encoding"] == encoding
    text = Path(source.file_path).read_text(encoding="utf-8")
    assert "Müller GmbH" in text
    assert "Café Zoë" in text


def test_mixed_date_formats_are_accepted_as_text_for_the_mapping_to_parse(executive, unchanged_canonical_tables):
    source = data_source_create(file=BAD / "mixed_date_formats.csv", user=executive)
    assert source.rows == 6
    assert source.dialect["columns"] == ["order_id", "order_date", "amount"]


def test_formula_cells_are_stored_verbatim_as_text(executive, unchanged_canonical_tables):
    source = data_source_create(file=BAD / "formula_cells.csv", user=executive)
    text = Path(source.file_path).read_text(encoding="utf-8")
    for cell in ("=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)"):
        assert cell in text
    assert source.dialect["columns"] == ["id", "name", "note", "amount"]


def test_markup_in_headers_and_values_is_kept_as_data(executive, unchanged_canonical_tables):
    source = data_source_create(file=BAD / "xss_values.csv", user=executive)
    assert "<script>alert(1)</script>" in source.dialect["columns"]
    assert '"><img src=x onerror=alert(2)>' in source.dialect["columns"]


def test_a_five_megabyte_cell_is_refused_with_the_row_limit(
    executive, tmp_path, upload_dir, unchanged_canonical_tables
):
    path = make_corpus.huge_cell_csv(tmp_path / "huge_cell.csv")
    with pytest.raises(UploadRejected, match="longer than the 2 MB a row may have"):
        data_source_create(file=path, user=executive)
    assert _stored_files(upload_dir) == []


def test_five_thousand_columns_are_read(executive, tmp_path, unchanged_canonical_tables):
    path = make_corpus.wide_csv(tmp_path / "wide.csv")
    source = data_source_create(file=path, user=executive)
    assert len(source.dialect["columns"]) == 5000
    assert source.rows == 3


def test_a_file_just_over_the_limit_is_refused_and_not_kept(executive, settings, tmp_path, upload_dir):
    settings.UPLOAD_MAX_BYTES = 64 * 1024
    path = make_corpus.over_limit_csv(tmp_path / "over.csv", limit_bytes=settings.UPLOAD_MAX_BYTES)
    assert settings.UPLOAD_MAX_BYTES < path.stat().st_size < settings.UPLOAD_MAX_BYTES + 64
    with pytest.raises(UploadRejected, match=r"larger than the upload limit of 0 MB|larger than the upload limit"):
        data_source_create(file=path, user=executive)
    assert _stored_files(upload_dir) == []
    assert DataSource.objects.count() == 0


def test_an_xlsx_zip_bomb_is_refused_before_it_is_inflated(executive, tmp_path, upload_dir, unchanged_canonical_tables):
    path = make_corpus.xlsx_zip_bomb(tmp_path / "bomb.xlsx", uncompressed_bytes=50 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(UploadRejected, match="zip bomb|would expand"):
        data_source_create(file=path, user=executive)
    assert _stored_files(upload_dir) == []


def test_a_corrupt_xlsx_is_refused(executive, upload_dir):
    with pytest.raises(UploadRejected, match="not a valid .xlsx"):
        data_source_create(file=io.BytesIO(b"PK\x03\x04 not really a zip"), name="x.xlsx", user=executive)


@pytest.mark.parametrize(
    ("raw_name", "shown"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\windows\\win.ini.csv", "win.ini.csv"),
        ("report\x00.exe.csv", "report.exe.csv"),
        ("a" * 5000 + ".csv", None),
    ],
)
def test_hostile_file_names_are_displayed_safely_and_never_used_as_paths(executive, upload_dir, raw_name, shown):
    source = data_source_create(file=io.BytesIO(b"id,name\n1,Ann\n"), name=raw_name, user=executive)
    assert "/" not in source.name and "\\" not in source.name and "\x00" not in source.name
    assert len(source.name) <= 200
    if shown:
        assert source.name == shown
    stored = Path(source.file_path).resolve()
    assert stored.parent == Path(upload_dir).resolve()
    assert raw_name[:10] not in stored.name


def test_values_that_span_lines_are_uploaded_and_executed_whole(executive, upload_dir):
    """A quoted line break (LF or CR) inside a cell: DuckDB's parallel reader refuses such a file, so every
    read of it, the execution's included, is serial."""
    from canonical.models import Customer
    from tests.mappings.helpers import field, run, upload_text

    text = 'id,name\nC1,"line one\nline two"\nC2,"carriage\rreturn"\nC3,plain\n'
    job = run(
        upload_text(upload_dir.parent, text, user=executive),
        [field("id", "canonical_customers", "external_id"), field("name", "canonical_customers", "name")],
        user=executive,
    )
    assert job.status == "succeeded", job.error
    assert dict(Customer.objects.values_list("external_id", "name")) == {
        "C1": "line one\nline two",
        "C2": "carriage\rreturn",
        "C3": "plain",
    }
