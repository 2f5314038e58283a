"""Files a hostile (or unlucky) data manager uploads to break the upload, review and execution paths.

Each goes through the pages a user would use (upload page, review page) and the execution, on real
PostgreSQL: a bad cell costs its row, never the file, and no page answers 500.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from canonical.models import Customer, Employee
from mappings.intake.dialect import MIXED_ENCODING, SAMPLE_BYTES, SNIFF_CHARS, sniff_file
from mappings.models import DataSource, RejectedRow
from tests.mappings.helpers import field, run


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def _upload_through_the_page(client, user, name: str, data: bytes):
    client.force_login(user)
    return client.post("/uploads/", {"file": SimpleUploadedFile(name, data, "text/csv")})


def _customers_with_a_nul_byte(rows: int, bad_row: int) -> bytes:
    lines = ["id,name,city"] + [f"C{i:05d},Customer number {i},Lisboa" for i in range(rows)]
    lines[bad_row] = f"C{bad_row - 1:05d},Bad\x00name,Porto"
    data = ("\n".join(lines) + "\n").encode()
    assert data.index(b"\x00") > 8192  # past the binary-file check of the first 8 KB
    return data


def test_a_nul_byte_after_the_first_8_kb_rejects_one_row_and_loads_the_rest(client, executive):
    data = _customers_with_a_nul_byte(2000, 1500)
    uploaded = _upload_through_the_page(client, executive, "customers.csv", data)
    source = DataSource.objects.get(uploaded_by=executive)
    assert uploaded.status_code == 302 and uploaded["Location"] == f"/uploads/{source.pk}/"
    assert client.get(f"/uploads/{source.pk}/").status_code == 200
    assert client.get(f"/uploads/{source.pk}/review/").status_code == 200

    job = run(
        source,
        [field("id", "canonical_customers", "external_id"), field("name", "canonical_customers", "name")],
        user=executive,
    )
    assert job.status == "succeeded", job.error
    assert job.report["tables"]["canonical_customers"]["inserted"] == 1999
    assert job.report["tables"]["canonical_customers"]["rejected"] == 1
    assert Customer.objects.count() == 1999
    rejected = RejectedRow.objects.get(job=job)
    assert rejected.source_row == 1501
    assert rejected.column == "name"
    assert "NUL byte" in rejected.reason
    assert rejected.value == "Bad\u2400name"  # shown, not stored as a NUL
    assert client.get(f"/uploads/jobs/{job.pk}/").status_code == 200
    assert client.get(f"/uploads/jobs/{job.pk}/rejected.csv").status_code == 200


def test_a_nul_byte_in_a_self_referencing_file_rejects_one_row_too(client, executive):
    """Employees with managers go through the staged load, not the direct one."""
    lines = ["id,name,manager"] + [f"E{i:04d},Employee {i},{'E0000' if i else ''}" for i in range(600)]
    lines[400] = "E0399,Nul\x00Employee,E0000"
    data = ("\n".join(lines) + "\n").encode()
    assert data.index(b"\x00") > 8192
    _upload_through_the_page(client, executive, "employees.csv", data)
    source = DataSource.objects.get(uploaded_by=executive)
    before = Employee.objects.count()
    job = run(
        source,
        [
            field("id", "canonical_employees", "external_id"),
            field("name", "canonical_employees", "name"),
            field("manager", "canonical_employees", "manager_id"),
        ],
        user=executive,
    )
    assert job.status == "succeeded", job.error
    assert Employee.objects.count() == before + 599
    assert "NUL byte" in RejectedRow.objects.get(job=job).reason


def test_a_nul_byte_in_a_column_that_is_not_loaded_costs_nothing(client, executive):
    data = _customers_with_a_nul_byte(2000, 1500).replace(b"Bad\x00name,Porto", b"Bad name,Por\x00to")
    _upload_through_the_page(client, executive, "customers.csv", data)
    source = DataSource.objects.get(uploaded_by=executive)
    job = run(
        source,
        [field("id", "canonical_customers", "external_id"), field("name", "canonical_customers", "name")],
        user=executive,
    )
    assert job.status == "succeeded", job.error
    assert job.report["tables"]["canonical_customers"]["rejected"] == 0
    assert Customer.objects.count() == 2000


def _files_of_every_upload() -> set[Path]:
    files = set()
    for source in DataSource.objects.all():
        files.add(Path(source.file_path).resolve())
        files.add(Path(source.dialect["original_file"]).resolve())
    return files


@pytest.mark.parametrize(
    "bom_and_codec", [(codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be")], ids=["le", "be"]
)
def test_a_utf32_file_is_read_as_its_text_and_leaves_no_stray_files(client, executive, upload_dir, bom_and_codec):
    bom, codec = bom_and_codec
    text = "id,name,city\n" + "".join(f"C{i},Müller {i},Zoë\n" for i in range(50))
    uploaded = _upload_through_the_page(client, executive, "utf32.csv", bom + text.encode(codec))
    source = DataSource.objects.get(uploaded_by=executive)
    assert uploaded.status_code == 302
    assert source.dialect["encoding"] == "utf-32"
    assert source.dialect["columns"] == ["id", "name", "city"]
    assert "Müller 7,Zoë" in Path(source.file_path).read_text(encoding="utf-8")
    assert {p.resolve() for p in Path(upload_dir).iterdir()} == _files_of_every_upload()


def test_a_utf32_file_without_a_byte_order_mark_is_refused_clearly_and_leaves_nothing(client, executive, upload_dir):
    text = "id,name,city\n" + "".join(f"C{i},Müller {i},Zoë\n" for i in range(50))
    uploaded = _upload_through_the_page(client, executive, "utf32.csv", text.encode("utf-32-le"))
    assert uploaded.status_code == 400
    assert "not a CSV text file" in uploaded.content.decode()
    assert not DataSource.objects.exists()
    assert list(Path(upload_dir).iterdir()) == []


def test_a_header_of_nul_bytes_is_refused_clearly_and_leaves_nothing(client, executive, upload_dir):
    """Text padded with NULs past the binary-file check's first 8 KB, header included (a UTF-16 BOM
    in front of UTF-32 text reads that way)."""
    data = (
        codecs.BOM_UTF16_LE
        + "id,name\n".encode("utf-32-le")
        + b"".join(f"{i},n{i}\n".encode("utf-32-le") for i in range(400))
    )
    uploaded = _upload_through_the_page(client, executive, "odd.csv", data)
    assert uploaded.status_code == 400
    assert "NUL bytes" in uploaded.content.decode()
    assert not DataSource.objects.exists()
    assert list(Path(upload_dir).iterdir()) == []


def _apostrophe_prefixed_codes(size: int) -> bytes:
    """Every row's code written '0123 (Excel's text prefix): quotes that never close, the input on which
    csv.Sniffer's quote regexes take time quadratic in the sample."""
    lines, i = ["id,code,name"], 0
    while sum(len(line) + 1 for line in lines) < size:
        lines.append(f"{i},'0{i},Name {i}")
        i += 1
    return ("\n".join(lines) + "\n").encode()


def test_a_file_of_unclosed_quotes_is_sniffed_on_a_bounded_sample(monkeypatch, client, executive):
    real_sniff = csv.Sniffer.sniff
    given: list[int] = []

    def bounded_sniff(self, sample, delimiters=None):
        given.append(len(sample))
        if len(sample) > SNIFF_CHARS:  # fail at once instead of spending a minute in the regexes
            raise AssertionError(f"csv.Sniffer was given {len(sample)} characters")
        return real_sniff(self, sample, delimiters)

    monkeypatch.setattr(csv.Sniffer, "sniff", bounded_sniff)
    data = _apostrophe_prefixed_codes(SAMPLE_BYTES + 64 * 1024)
    uploaded = _upload_through_the_page(client, executive, "codes.csv", data)
    assert uploaded.status_code == 302
    source = DataSource.objects.get(uploaded_by=executive)
    assert given and max(given) <= SNIFF_CHARS
    assert source.dialect["delimiter"] == ","
    assert source.dialect["columns"] == ["id", "code", "name"]


def test_a_header_longer_than_the_sniffed_sample_still_gives_its_delimiter(executive, tmp_path):
    header = ";".join(f"column_{i}" for i in range(3000))
    assert len(header) > SNIFF_CHARS
    path = tmp_path / "wide.csv"
    path.write_text(header + "\n" + ";".join("1" for _ in range(3000)) + "\n", encoding="utf-8")
    assert sniff_file(path).delimiter == ";"


def _mixed_utf8_and_cp1252(rows: int, cp1252_row: int) -> bytes:
    """UTF-8 rows with one row pasted from a cp1252 export, `cp1252_row` rows down."""
    head = "id,name,city\n" + "".join(f"C{i:05d},Müller {i},Köln\n" for i in range(rows))
    lines = head.encode("utf-8").split(b"\n")
    lines[cp1252_row] = f"C{cp1252_row - 1:05d},Café Zoë,Genève".encode("cp1252")
    return b"\n".join(lines)


@pytest.mark.parametrize("cp1252_row", [3, 12000], ids=["in-the-sample", "past-the-sample"])
def test_a_file_mixing_utf8_and_cp1252_is_read_without_mojibake_and_the_user_is_warned(client, executive, cp1252_row):
    data = _mixed_utf8_and_cp1252(13000, cp1252_row)
    assert (cp1252_row < 100) == (data.index("Café".encode("cp1252")) < SAMPLE_BYTES)
    client.force_login(executive)
    page = client.post(
        "/uploads/", {"file": SimpleUploadedFile("mixed.csv", data, "text/csv")}, follow=True
    ).content.decode()
    source = DataSource.objects.get(uploaded_by=executive)
    assert source.dialect["encoding"] == MIXED_ENCODING
    assert "mixes UTF-8 text and bytes that are not UTF-8" in page  # the message after the upload
    assert 'data-testid="mixed-encoding"' in page  # and on the upload's page
    text = Path(source.file_path).read_text(encoding="utf-8")
    assert "Müller 7,Köln" in text and "Café Zoë,Genève" in text
    assert "Ã" not in text  # no mojibake either way
    review = client.get(f"/uploads/{source.pk}/review/").content.decode()
    assert 'data-testid="mixed-encoding"' in review
    assert f'<option value="{MIXED_ENCODING}" selected>' in review and '<option value="cp1252"' in review

    job = run(
        source,
        [field("id", "canonical_customers", "external_id"), field("name", "canonical_customers", "name")],
        user=executive,
    )
    assert job.status == "succeeded", job.error
    assert Customer.objects.get(external_id=f"C{cp1252_row - 1:05d}").name == "Café Zoë"


def test_the_user_may_read_a_mixed_file_as_one_encoding_instead(client, executive):
    client.force_login(executive)
    data = _mixed_utf8_and_cp1252(50, 3)
    client.post("/uploads/", {"file": SimpleUploadedFile("mixed.csv", data, "text/csv")})
    source = DataSource.objects.get(uploaded_by=executive)
    chosen = client.post(
        f"/uploads/{source.pk}/review/dialect/",
        {"delimiter": ",", "quote": '"', "encoding": "cp1252", "header": "on"},
        follow=True,
    )
    source.refresh_from_db()
    assert source.dialect["encoding"] == "cp1252"
    assert 'data-testid="mixed-encoding"' not in chosen.content.decode()
    assert "MÃ¼ller 7" in Path(source.file_path).read_text(encoding="utf-8")  # what the user asked for
    assert Path(source.dialect["original_file"]).read_bytes() == data  # the original is never rewritten


def test_cp1252_bytes_after_an_ascii_head_are_read_as_cp1252(client, executive):
    head = "id,name\n" + "".join(f"C{i:05d},Plain {i}\n" for i in range(20000))
    data = head.encode() + "C99999,Café\n".encode("cp1252")
    assert len(head) > SAMPLE_BYTES
    _upload_through_the_page(client, executive, "late.csv", data)
    source = DataSource.objects.get(uploaded_by=executive)
    assert source.dialect["encoding"] == "cp1252"
    job = run(
        source,
        [field("id", "canonical_customers", "external_id"), field("name", "canonical_customers", "name")],
        user=executive,
    )
    assert job.status == "succeeded", job.error
    assert Customer.objects.get(external_id="C99999").name == "Café"


@pytest.mark.django_db
def test_propose_mapping_reads_a_file_mixing_utf8_and_cp1252_past_the_sample(tmp_path):
    """The command reads the raw file (no upload transcodes it): the profile's sampler must decode the mix."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(_mixed_utf8_and_cp1252(80000, 12000))  # > SAMPLE_BYTES, so the sampler decodes the head
    assert path.stat().st_size > SAMPLE_BYTES
    out = io.StringIO()
    call_command("propose_mapping", str(path), "--json", stdout=out)
    document = json.loads(out.getvalue())
    assert [p["source_col"] for p in document["proposals"]] == ["id", "name", "city"]
    assert document["rows"] == 80000
