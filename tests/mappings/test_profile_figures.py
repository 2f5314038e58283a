"""Issue 23 item 2: the profile's min, max and nulls of numbers and dates are the whole file's, or say
they are the sample's."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from django.conf import settings
from django.urls import reverse

from mappings.profiling.profile import profile_file

REAL = Path(settings.BASE_DIR) / "tests" / "data" / "real"
SUPERSTORE = REAL / "superstore_dayfirst.csv"  # dev split: 1.1 MB, so profiled on a sample


def _columns(document: dict) -> dict[str, dict]:
    return {c["name"]: c for c in document["columns"]}


def _file_truth(path: Path, column: str) -> tuple[float, float, int]:
    """min, max and null count of a column as DuckDB reads the file by itself (typed, every row)."""
    with duckdb.connect() as con:
        return con.execute(
            f'SELECT min("{column}"), max("{column}"), count(*) FILTER (WHERE "{column}" IS NULL) FROM read_csv(?)',
            [str(path)],
        ).fetchone()


def test_superstore_sales_and_profit_ranges_are_those_of_the_whole_file_not_the_sample():
    document = profile_file(path=SUPERSTORE, dialect={"encoding": "utf-8-sig"})
    columns = _columns(document)

    assert document["sampled"] is True  # the figures below are not the sample's
    for name in ("Sales", "Profit", "Quantity", "Discount", "Row ID"):
        low, high, nulls = _file_truth(SUPERSTORE, name)
        assert (columns[name]["min"], columns[name]["max"], columns[name]["nulls"]) == pytest.approx(
            (float(low), float(high), nulls)
        ), name
        assert columns[name]["figures"] == "file"
    assert columns["Sales"]["max"] == 22638.48
    assert columns["Row ID"]["max"] == 5000


def test_superstore_dates_span_the_whole_file():
    columns = _columns(profile_file(path=SUPERSTORE, dialect={"encoding": "utf-8-sig"}))
    with duckdb.connect() as con:
        first, last = con.execute(
            "SELECT min(strptime(\"Order Date\", '%d/%m/%y')), max(strptime(\"Order Date\", '%d/%m/%y')) "
            "FROM read_csv(?, all_varchar = true)",
            [str(SUPERSTORE)],
        ).fetchone()
    assert (columns["Order Date"]["min"], columns["Order Date"]["max"]) == (str(first.date()), str(last.date()))


def test_a_small_file_with_more_distinct_values_than_the_profile_examines_gets_its_true_range(tmp_path):
    path = tmp_path / "amounts.csv"
    # 3,000 distinct amounts, most frequent first: the Python checks see only the 1,000 most frequent.
    rows = ["7.25"] * 50 + [f"{i}.{i % 100:02d}" for i in range(1, 3001)] + ["", "N/A"]
    path.write_text("line,amount\n" + "".join(f"{n},{amount}\n" for n, amount in enumerate(rows)))

    column = _columns(profile_file(path=path))["amount"]

    assert (column["type"], column["min"], column["max"], column["nulls"]) == ("decimal", 1.01, 3000.0, 2)
    assert column["figures"] == "file"


def test_german_numbers_are_read_over_the_whole_file_with_their_locale(tmp_path, monkeypatch):
    import mappings.profiling.sample as sample

    monkeypatch.setattr(sample, "SAMPLE_BYTES", 4096)
    path = tmp_path / "betrag.csv"
    path.write_text("Betrag;Menge\n" + "".join(f"{i}.{i % 1000:03d},50;{i}\n" for i in range(1, 20001)))

    columns = _columns(profile_file(path=path, dialect={"delimiter": ";"}))

    assert columns["Betrag"]["locale"] == "de"
    assert (columns["Betrag"]["min"], columns["Betrag"]["max"]) == (1001.5, 20000000.5)
    assert (columns["Menge"]["min"], columns["Menge"]["max"]) == (1, 20000)


def test_a_sampled_file_duckdb_cannot_decode_keeps_sample_figures_labelled_so(tmp_path, monkeypatch):
    import mappings.profiling.sample as sample

    monkeypatch.setattr(sample, "SAMPLE_BYTES", 4096)
    path = tmp_path / "cp1252.csv"
    path.write_bytes(("Kunde,Betrag\n" + "".join(f"Müller {i},{i}\n" for i in range(1, 20001))).encode("cp1252"))

    columns = _columns(profile_file(path=path, dialect={"encoding": "cp1252"}))

    assert columns["Betrag"]["figures"] == "sample"
    assert columns["Betrag"]["max"] < 20000  # what the sample holds, and it says so


def test_values_that_do_not_read_as_the_columns_type_are_counted_and_noted(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("n\n" + "".join(f"{i}\n" for i in range(1, 200)) + "oops\n")

    column = _columns(profile_file(path=path))["n"]

    assert (column["min"], column["max"], column["unreadable"]) == (1, 199, 1)
    assert any("1 value(s)" in note for note in column["notes"])


def test_the_upload_page_shows_the_files_range_and_marks_sample_figures(client, executive, upload_of):
    source = upload_of(SUPERSTORE, executive)
    client.force_login(executive)

    page = client.get(reverse("mappings:source", args=[source.pk])).content.decode()

    assert "22638.48" in page
    assert "sample-figure" in page  # the text columns' min/max are the sample's and say so
    assert "over the whole file" in page


def test_a_big_upload_shows_sample_ranges_at_once_and_the_files_after_its_scan(
    settings, executive, upload_of, tmp_path
):
    import mappings.profiling.sample as sample
    from mappings.tasks import data_source_scan_task

    settings.UPLOAD_SCAN_SYNC_BYTES = 10_000  # "big": scanned after the upload, by a worker
    path = tmp_path / "orders.csv"
    path.write_text("Order,Total\n" + "".join(f"SO-{i},{i}.25\n" for i in range(1, 30001)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sample, "SAMPLE_BYTES", 8192)
        source = upload_of(path, executive)

    total = _columns(source.profile)["Total"]
    assert (total["figures"], source.profile["rows_profiled"] < 30000) == ("sample", True)

    data_source_scan_task(source.pk)  # what the worker runs after the upload

    source.refresh_from_db()
    total = _columns(source.profile)["Total"]
    assert (total["figures"], total["min"], total["max"], source.rows) == ("file", 1.25, 30000.25, 30000)
