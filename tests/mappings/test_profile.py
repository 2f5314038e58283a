from __future__ import annotations

import codecs

import pytest

from mappings.profiling.profile import parse_number_text, profile_file
from mappings.services.profile import data_source_profile
from tests.mappings.conftest import NORTHWIND


def _profile(tmp_path, text, encoding="utf-8", **dialect):
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return {c["name"]: c for c in profile_file(path=path, dialect={"encoding": encoding, **dialect})["columns"]}


def test_ambiguous_us_dates_are_resolved_by_a_later_value(tmp_path):
    cols = _profile(tmp_path, "d\n03/04/2024\n01/02/2024\n12/25/2024\n")
    assert cols["d"]["type"] == "date"
    assert cols["d"]["format"] == "%m/%d/%Y"
    assert cols["d"]["ambiguous"] is False


def test_european_dates_are_resolved_by_a_day_above_twelve(tmp_path):
    cols = _profile(tmp_path, "d\n03/04/2024\n01/02/2024\n25/12/2024\n")
    assert cols["d"]["format"] == "%d/%m/%Y"
    assert cols["d"]["ambiguous"] is False


def test_dates_that_stay_ambiguous_are_reported(tmp_path):
    cols = _profile(tmp_path, "d\n03/04/2024\n01/02/2024\n")
    assert cols["d"]["ambiguous"] is True
    assert "%d/%m/%Y" in cols["d"]["alternatives"]
    assert "no value above 12" in cols["d"]["notes"][0]


def test_german_dates_and_datetimes(tmp_path):
    cols = _profile(tmp_path, "a;b\n31.01.2024;2024-01-31 14:05:00\n01.02.2024;2024-02-01 08:00:00\n", delimiter=";")
    assert (cols["a"]["type"], cols["a"]["format"]) == ("date", "%d.%m.%Y")
    assert (cols["b"]["type"], cols["b"]["format"]) == ("datetime", "%Y-%m-%d %H:%M:%S")
    assert cols["a"]["min"] == "2024-01-31"


def test_midnight_timestamps_are_dates(tmp_path):
    cols = _profile(tmp_path, "d\n1996-07-04 00:00:00.000\n1996-07-05 00:00:00.000\n")
    assert (cols["d"]["type"], cols["d"]["format"]) == ("date", "%Y-%m-%d %H:%M:%S.%f")


@pytest.mark.parametrize(
    ("text", "number", "locale"),
    [("1,234.56", 1234.56, "en"), ("1.234,56", 1234.56, "de"), ("€ 12,50", 12.5, "de"), ("(12.00)", -12.0, "en"),
     ("12.5%", 0.125, "en"), ("$1,000,000", 1000000.0, "en"), ("100-", -100.0, None)],
)  # fmt: skip
def test_numbers_are_read_with_their_locale(text, number, locale):
    assert parse_number_text(text) == (pytest.approx(number), locale)


def test_a_german_amount_column_is_decimal_de(tmp_path):
    cols = _profile(tmp_path, "Betrag;Menge\n1.234,56;3\n12,50;4\n1.000,00;5\n", delimiter=";")
    assert cols["Betrag"]["type"] == "decimal"
    assert cols["Betrag"]["locale"] == "de"
    assert cols["Betrag"]["max"] == pytest.approx(1234.56)
    assert cols["Menge"]["type"] == "integer"


def test_boolean_vocabularies(tmp_path):
    cols = _profile(tmp_path, "a,b,c\nja,Y,true\nnein,N,false\nja,Y,true\n")
    assert cols["a"]["type"] == cols["b"]["type"] == cols["c"]["type"] == "boolean"
    assert cols["a"]["true_values"] == ["ja"] and cols["a"]["false_values"] == ["nein"]


def test_emails_phones_identifiers_categories_and_free_text(tmp_path):
    rows = [
        f"C-{i:04d},user{i}@example.com,(206) 555-{1000 + i},{['Gold', 'Silver'][i % 2]},"
        f"A long free text note number {i} that keeps going for well over sixty characters in all"
        for i in range(40)
    ]
    cols = _profile(tmp_path, "id,email,phone,tier,notes\n" + "\n".join(rows) + "\n")
    assert cols["id"]["type"] == "identifier" and cols["id"]["unique"]
    assert cols["email"]["type"] == "email" and cols["email"]["pii"]["kind"] == "email"
    assert cols["phone"]["type"] == "phone"
    assert cols["tier"]["type"] == "category" and cols["tier"]["distinct"] == 2
    assert cols["notes"]["type"] == "free_text"


def test_nulls_and_null_tokens_are_counted(tmp_path):
    cols = _profile(tmp_path, "a,b\n1,NULL\n2,\n3,x\n4,y\n")
    assert cols["b"]["nulls"] == 2
    assert cols["b"]["null_share"] == 0.5
    assert cols["b"]["null_tokens"] == ["NULL"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_each_encoding_profiles_the_same(tmp_path, encoding):
    text = "Kunde;Betrag\nMüller GmbH;1.234,56\nCafé Zoë;12,50\n"
    raw = (codecs.BOM_UTF8 + text.encode()) if encoding == "utf-8-sig" else text.encode(encoding)
    cols = _profile(tmp_path, raw, encoding=encoding, delimiter=";")
    assert list(cols) == ["Kunde", "Betrag"]
    assert cols["Kunde"]["top"][0]["value"] in ("Café Zoë", "Müller GmbH")
    assert cols["Betrag"]["locale"] == "de"


def test_big_files_are_profiled_on_a_sample(tmp_path, monkeypatch):
    import mappings.profiling.sample as sample

    monkeypatch.setattr(sample, "SAMPLE_BYTES", 2000)
    path = tmp_path / "big.csv"
    path.write_text("id,amount\n" + "".join(f"{i},{i}.50\n" for i in range(5000)))
    document = profile_file(path=path)
    assert document["sampled"] is True
    assert 0 < document["rows_profiled"] < 5000


def test_quickviz_suggests_a_monthly_line_a_bar_and_a_histogram(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("Date,Region,Amount\n2024-01-05,North,10.5\n2024-01-20,South,3.25\n2024-02-02,North,8.00\n")
    charts = profile_file(path=path)["charts"]
    assert [c["mark"]["type"] for c in charts] == ["line", "bar", "bar"]
    line, bar, hist = charts
    assert line["data"]["values"] == [{"month": "2024-01-01", "value": 13.75}, {"month": "2024-02-01", "value": 8.0}]
    assert {"category": "North", "value": 18.5} in bar["data"]["values"]
    assert hist["encoding"]["x"]["bin"]
    assert all(c["usermeta"]["sampled_preview"] for c in charts)


def test_profiling_an_upload_stores_it(db, executive, tmp_path):
    from mappings.services.upload import data_source_create

    source = data_source_create(file=NORTHWIND / "orders.csv", name="orders.csv", user=executive)
    document = data_source_profile(source=source)
    source.refresh_from_db()
    assert source.status == "profiled"
    assert source.profile == document
    assert document["rows"] == 830
    assert [c["name"] for c in document["columns"]] == source.dialect["columns"]


def _dated_orders(path, rows: int) -> None:
    """Orders sorted by date, one month per 1,000 rows: a head-only sample would see the first months only."""
    with path.open("w") as fh:
        fh.write("Order ID,Order Date,Total\n")
        for i in range(rows):
            fh.write(f"SO-{i:06d},{2020 + i // 12000}-{1 + (i // 1000) % 12:02d}-15,{10 + i % 90}.50\n")


def test_a_big_file_is_sampled_from_byte_ranges_across_it_so_quickviz_shows_its_last_months(tmp_path, monkeypatch):
    import mappings.profiling.sample as sample

    monkeypatch.setattr(sample, "SAMPLE_BYTES", 64 * 1024)
    path = tmp_path / "sorted.csv"
    _dated_orders(path, 48_000)  # four years, ~1.4 MB

    document = profile_file(path=path)

    assert document["sampled"] is True
    months = [v["month"] for v in document["charts"][0]["data"]["values"]]
    assert months[0].startswith("2020-01") and months[-1].startswith("2023-")
    assert {c["name"]: c["type"] for c in document["columns"]} == {
        "Order ID": "identifier", "Order Date": "date", "Total": "decimal",
    }  # fmt: skip


def test_a_big_files_row_count_is_estimated_from_its_bytes_without_reading_it(tmp_path, monkeypatch):
    import mappings.profiling.sample as sample

    monkeypatch.setattr(sample, "SAMPLE_BYTES", 64 * 1024)
    path = tmp_path / "sorted.csv"
    _dated_orders(path, 48_000)

    document = profile_file(path=path)

    assert document["rows"] is None  # not counted …
    assert document["rows_estimated"] == pytest.approx(48_000, rel=0.02)  # … but estimated within 2%


def test_a_head_with_quoted_line_breaks_is_sampled_from_the_head_only(tmp_path, monkeypatch):
    import mappings.profiling.sample as sample

    monkeypatch.setattr(sample, "SAMPLE_BYTES", 16 * 1024)
    path = tmp_path / "notes.csv"
    path.write_text("id,note\n" + "".join(f'{i},"line one\nline two of note {i}"\n' for i in range(4000)))

    document = profile_file(path=path)

    assert document["sampled"] is True and "rows_estimated" not in document
    assert {c["name"] for c in document["columns"]} == {"id", "note"}
    assert all("\n" in t["value"] for t in next(c for c in document["columns"] if c["name"] == "note")["top"])


def test_rows_with_more_fields_than_the_header_are_reported_with_their_numbers_and_kept_out_of_the_profile(tmp_path):
    path = tmp_path / "addresses.csv"
    path.write_text(
        "id,street,city\n1,Main St 5,Lyon\n2,Rua do Paço, 67,Rio\n3,Elm 2,Paris\n4,2, rue du Commerce,Lyon\n"
    )

    document = profile_file(path=path)

    assert [c["name"] for c in document["columns"]] == ["id", "street", "city"]  # no extra column
    assert document["ragged"] == {
        "rows": 2, "examples": [3, 5], "header_fields": 3, "max_fields": 4, "sampled": False,
    }  # fmt: skip
    city = next(c for c in document["columns"] if c["name"] == "city")
    assert {t["value"] for t in city["top"]} == {"Lyon", "Paris"}  # not " 67" nor "Rio" shifted in
    assert document["rows"] == 4 and document["rows_profiled"] == 2


def test_northwind_orders_profile_says_which_rows_have_an_unquoted_comma(db, executive):
    from mappings.services.upload import data_source_create

    source = data_source_create(file=NORTHWIND / "orders.csv", name="orders.csv", user=executive)
    document = data_source_profile(source=source)

    assert source.dialect["ragged"] == {
        "rows": 176, "examples": [4, 5, 6, 7, 10, 15, 19, 35, 36, 41], "header_fields": 14, "max_fields": 15,
        "repairable": 176,
    }  # fmt: skip
    assert document["ragged"] == source.dialect["ragged"]
    assert "column14" not in source.dialect["columns"] and len(source.dialect["columns"]) == 14
    assert source.rows == 830
