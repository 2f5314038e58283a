"""parse_date "auto" reads a whole column with one format: the one that reads the most plausible dates."""

from __future__ import annotations

import datetime

import pytest

from canonical.models import Order
from mappings.engine import dates
from mappings.engine.dates import DateColumn, DateFormat, date_formats_resolve
from mappings.engine.plan import plan_build
from mappings.engine.transforms import AUTO_DATE_FORMATS, duckdb_install_macros, transform_parse
from mappings.intake.duck import duckdb_connect_locked
from tests.mappings.helpers import field, run, save, upload_text


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def orders_csv(*dates: str) -> str:
    return "order,date,amount\n" + "".join(f"O{n},{d},1.00\n" for n, d in enumerate(dates, start=1))


def fields(transform=None) -> list[dict]:
    return [
        field("order", "canonical_orders", "external_id"),
        field("date", "canonical_orders", "order_date", transform),
        field("amount", "canonical_orders", "amount"),
    ]


def test_values_above_12_in_the_first_position_make_the_whole_column_day_first(db, tmp_path):
    # 03/01/19 alone reads either way; 13/01/19 and 25/12/19 only day-first: the column is day-first.
    source = upload_text(tmp_path, orders_csv("03/01/19", "13/01/19", "25/12/19"))
    job = run(source, fields([{"op": "parse_date", "format": "auto"}]))

    assert job.status == "succeeded", job.error
    dates = dict(Order.objects.values_list("external_id", "order_date"))
    assert dates == {
        "O1": datetime.date(2019, 1, 3),
        "O2": datetime.date(2019, 1, 13),
        "O3": datetime.date(2019, 12, 25),
    }
    assert job.report["date_formats"]["canonical_orders.order_date"] == {
        "column": "date",
        "format": "%d/%m/%y",
        "read": 3,
        "values": 3,
    }


def test_a_value_the_chosen_format_cannot_read_is_rejected_not_read_with_another_format(db, tmp_path):
    # Three month-first values and one day-first: mixing would load all four, one of them wrong or silently so.
    source = upload_text(tmp_path, orders_csv("01/13/2024", "02/14/2024", "03/15/2024", "25/12/2024"))
    job = run(source, fields([{"op": "parse_date", "format": "auto"}]))

    assert job.report["date_formats"]["canonical_orders.order_date"]["format"] == "%m/%d/%Y"
    assert job.report["tables"]["canonical_orders"]["rejected"] == 1
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["O1", "O2", "O3"]


def test_two_digit_years_are_not_read_as_the_first_century(db, tmp_path):
    # %Y/%m/%d would read 19/01/03 as 3 January of the year 19: implausible, so %y/… formats win.
    source = upload_text(tmp_path, orders_csv("05.05.98", "17.06.99"))
    job = run(source, fields([{"op": "parse_date", "format": "auto"}]))

    assert job.report["date_formats"]["canonical_orders.order_date"]["format"] == "%d.%m.%y"
    assert Order.objects.get(external_id="O1").order_date == datetime.date(1998, 5, 5)


def test_a_date_column_without_a_parse_step_is_resolved_too(db, tmp_path):
    source = upload_text(tmp_path, orders_csv("05.05.1998", "17.06.1999"))
    job = run(source, fields())

    assert job.report["date_formats"]["canonical_orders.order_date"]["format"] == "%d.%m.%Y"
    assert Order.objects.get(external_id="O2").order_date == datetime.date(1999, 6, 17)


def test_evidence_that_cannot_decide_is_reported_as_tied(db, tmp_path):
    source = upload_text(tmp_path, orders_csv("01/02/2024", "03/04/2024"))
    mapping = save(source, fields([{"op": "parse_date", "format": "auto"}]))

    plan = next(p for p in plan_build(mapping) if p.name == "canonical_orders")
    resolved = plan.column("order_date").date_format
    assert resolved["format"] == "%m/%d/%Y"
    assert "%d/%m/%Y" in resolved["tied"]


def test_an_explicit_format_is_left_alone(db, tmp_path):
    source = upload_text(tmp_path, orders_csv("01/02/2024"))
    job = run(source, fields([{"op": "parse_date", "format": "%d/%m/%Y"}]))

    assert "date_formats" not in job.report
    assert Order.objects.get(external_id="O1").order_date == datetime.date(2024, 2, 1)


def test_steps_before_parse_date_are_applied_before_the_formats_are_scored(db, tmp_path):
    source = upload_text(tmp_path, orders_csv("d:25/12/2024", "d:13/01/2024"))
    transform = [{"op": "split_part", "separator": ":", "index": 2}, {"op": "parse_date", "format": "auto"}]
    job = run(source, fields(transform))

    assert job.report["date_formats"]["canonical_orders.order_date"]["format"] == "%d/%m/%Y"
    assert Order.objects.get(external_id="O1").order_date == datetime.date(2024, 12, 25)


def test_a_repeated_value_counts_once_per_row_in_each_of_several_columns(db, tmp_path):
    # The formats are tried on distinct values (dates.py), weighed by their rows: read and values stay row counts,
    # a blank is no value, padding is trimmed, year 24 is not plausible, and each column keeps its own format.
    ordered = ["2024-03-01"] * 5 + [" 2024-03-02 ", "", "0024-03-01"]
    shipped = ["13/01/2024"] * 3 + ["03/01/2024", "", "", "14/01/2024", "x"]
    text = "order,date,shipped\n" + "".join(f"O{n},{a},{b}\n" for n, (a, b) in enumerate(zip(ordered, shipped)))
    source = upload_text(tmp_path, text)
    columns = [DateColumn("o.date", "date", ()), DateColumn("o.shipped", "shipped", ())]

    chosen = date_formats_resolve(columns, file_path=source.file_path, dialect=source.dialect)

    assert chosen["o.date"] == DateFormat(format="%Y-%m-%d", read=6, values=7)
    assert chosen["o.shipped"] == DateFormat(format="%d/%m/%Y", read=5, values=6)


def test_formats_are_chosen_in_the_first_rows_even_when_they_repeat_one_value(db, tmp_path, monkeypatch):
    # The sample is the file's first rows, not its first distinct values: a format reading only a later row is not
    # tried over the whole file.
    monkeypatch.setattr(dates, "SAMPLE_ROWS", 3)
    source = upload_text(tmp_path, orders_csv("2024-01-05", "2024-01-05", "2024-01-05", "05.01.2024", "06.01.2024"))

    chosen = date_formats_resolve(
        [DateColumn("o.date", "date", ())], file_path=source.file_path, dialect=source.dialect
    )

    assert chosen["o.date"] == DateFormat(format="%Y-%m-%d", read=3, values=5)


def test_counting_distinct_values_gives_the_counts_of_trying_every_row(db, tmp_path):
    # dates._count groups the sample's values per column (distinct), tries each row of the whole file: same counts.
    ordered = ["2024-03-01"] * 4 + ["03/04/2024", " 03/04/2024", "", "0024-03-01", "13/04/2024"]
    shipped = ["04/03/2024"] * 2 + ["", "x", "2024-13-01", "05/03/2024", "", "04/03/2024", "31/12/1899"]
    text = "order,date,shipped\n" + "".join(f"O{n},{a},{b}\n" for n, (a, b) in enumerate(zip(ordered, shipped)))
    source = upload_text(tmp_path, text)
    columns = [DateColumn("o.date", "date", ()), DateColumn("o.shipped", "shipped", ())]
    formats = [list(AUTO_DATE_FORMATS), ["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d"]]
    conn = duckdb_connect_locked(source.file_path)
    duckdb_install_macros(conn)

    grouped = dates._count(conn, columns, formats, file_path=source.file_path, dialect=source.dialect, distinct=True)
    each_row = dates._count(conn, columns, formats, file_path=source.file_path, dialect=source.dialect, distinct=False)

    assert grouped == each_row
    assert grouped[0] == 9
    assert grouped[1][1] == (7, [4, 4, 0])  # 1899 is not plausible, month 13 does not exist


def test_a_file_no_longer_than_the_sample_is_read_once_with_the_same_result(db, tmp_path, monkeypatch):
    source = upload_text(tmp_path, orders_csv("01/02/2024", "03/04/2024", "", "13/04/2024", "2024-04-13"))
    column = DateColumn("o.date", "date", ())
    passes = []
    count = dates._count
    monkeypatch.setattr(dates, "_count", lambda *args, **kw: passes.append(kw.get("limit")) or count(*args, **kw))

    once = date_formats_resolve([column], file_path=source.file_path, dialect=source.dialect)
    monkeypatch.setattr(dates, "SAMPLE_ROWS", 2)  # the first rows only: the whole file is counted again
    twice = date_formats_resolve([column], file_path=source.file_path, dialect=source.dialect)

    assert passes == [20_000, 2, None]
    assert once == twice == {"o.date": DateFormat(format="%d/%m/%Y", read=3, values=4)}


def _whole_file_passes(monkeypatch) -> list:
    """The limits of dates._count's passes from now on (None: a whole-file pass)."""
    passes = []
    count = dates._count
    monkeypatch.setattr(dates, "_count", lambda *args, **kw: passes.append(kw.get("limit")) or count(*args, **kw))
    return passes


def test_one_format_left_by_the_first_rows_is_counted_by_the_load_not_a_second_pass(db, tmp_path, monkeypatch):
    # The first rows leave one candidate (%Y-%m-%d): it wins over the whole file whatever the rest holds, so the
    # direct load counts read and values as it parses the column; the report's figures are the pass's.
    monkeypatch.setattr(dates, "SAMPLE_ROWS", 2)
    source = upload_text(tmp_path, orders_csv("2024-03-01", "2024-03-02", "", " 2024-03-04 ", "0024-03-01", "x"))
    column = DateColumn("canonical_orders.order_date", "date", ())
    by_the_pass = date_formats_resolve([column], file_path=source.file_path, dialect=source.dialect)
    passes = _whole_file_passes(monkeypatch)

    job = run(source, fields([{"op": "parse_date", "format": "auto"}]))

    assert passes == [2]  # the sample only
    assert by_the_pass[column.key] == DateFormat(format="%Y-%m-%d", read=3, values=5)
    assert job.report["date_formats"]["canonical_orders.order_date"] == {
        "column": "date",
        "format": "%Y-%m-%d",
        "read": 3,
        "values": 5,
    }
    # The year 24 is loaded (read, though not counted as plausible); "x" and the blank are rejected, as before.
    assert job.report["errors"] == [
        "canonical_orders row 4: date: required value missing (value '')",
        "canonical_orders row 7: date: cannot read the value as date (value 'x')",
    ]
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["O1", "O2", "O4", "O5"]


def test_first_rows_that_leave_day_and_month_open_still_get_the_whole_file_pass(db, tmp_path, monkeypatch):
    # 01/02 and 03/04 read either way: the later 25/12 decides, so the file is counted again (ambiguity is not
    # the load's to settle).
    monkeypatch.setattr(dates, "SAMPLE_ROWS", 2)
    source = upload_text(tmp_path, orders_csv("01/02/2024", "03/04/2024", "25/12/2024", "13/01/2024"))
    passes = _whole_file_passes(monkeypatch)

    job = run(source, fields([{"op": "parse_date", "format": "auto"}]))

    assert passes == [2, None]
    assert job.report["date_formats"]["canonical_orders.order_date"] == {
        "column": "date",
        "format": "%d/%m/%Y",
        "read": 4,
        "values": 4,
    }
    assert Order.objects.get(external_id="O2").order_date == datetime.date(2024, 4, 3)


def test_the_load_counts_after_steps_and_for_an_attribute_as_the_pass_would(db, tmp_path, monkeypatch):
    # A split_part before parse_date (the text counted is the step's), and a date kept as an attribute.
    monkeypatch.setattr(dates, "SAMPLE_ROWS", 2)
    rows = [("d:25/12/2024", "2024-01-05"), ("d:13/01/2024", "2024-01-06"), ("d:", ""), ("d:1/1/1850", "nope")]
    text = "order,date,promised,amount\n" + "".join(f"O{n},{a},{b},1.00\n" for n, (a, b) in enumerate(rows))
    source = upload_text(tmp_path, text)
    split = [{"op": "split_part", "separator": ":", "index": 2}, {"op": "parse_date", "format": "auto"}]
    columns = [
        DateColumn("canonical_orders.order_date", "date", tuple(transform_parse(split[:1]))),
        DateColumn("canonical_orders.attributes.promised", "promised", ()),
    ]
    by_the_pass = date_formats_resolve(columns, file_path=source.file_path, dialect=source.dialect)
    passes = _whole_file_passes(monkeypatch)
    attribute = field("promised", "canonical_orders", "attributes.promised", [{"op": "parse_date", "format": "auto"}])

    job = run(source, [*fields(split), attribute])

    assert passes == [2]
    formats = job.report["date_formats"]
    for column in columns:
        expected = by_the_pass[column.key]
        assert (formats[column.key]["format"], formats[column.key]["read"], formats[column.key]["values"]) == (
            expected.format,
            expected.read,
            expected.values,
        )
    assert (formats["canonical_orders.order_date"]["read"], formats["canonical_orders.order_date"]["values"]) == (2, 3)
    assert (
        formats["canonical_orders.attributes.promised"]["read"],
        formats["canonical_orders.attributes.promised"]["values"],
    ) == (2, 3)


def test_a_staged_load_keeps_the_whole_file_pass(db, tmp_path, monkeypatch):
    # Employees with their manager in the same file load through a staging table, which counts nothing: the pass
    # counts their hire dates, as before.
    monkeypatch.setattr(dates, "SAMPLE_ROWS", 2)
    text = "id,name,manager,hired\nE1,Ann,,2020-01-02\nE2,Bob,E1,2021-03-04\nE3,Cy,E1,2022-05-06\n"
    source = upload_text(tmp_path, text)
    passes = _whole_file_passes(monkeypatch)
    employee_fields = [
        field("id", "canonical_employees", "external_id"),
        field("name", "canonical_employees", "name"),
        field("manager", "canonical_employees", "manager_id"),
        field("hired", "canonical_employees", "hire_date"),
    ]

    job = run(source, employee_fields)

    assert job.status == "succeeded", job.error
    assert passes == [2, None]
    assert job.report["date_formats"]["canonical_employees.hire_date"]["read"] == 3


def test_repaired_ragged_rows_keep_the_whole_file_pass(db, tmp_path, monkeypatch):
    # Repaired, a ragged row has values the pass reads as empty: the pass counts, as before, not the load.
    monkeypatch.setattr(dates, "SAMPLE_ROWS", 2)
    text = "order,date,city,amount\nO1,2024-03-01,Lyon,1.00\nO2,2024-03-02,Paris,1.00\n"
    text += "O3,2024-03-03,Rua do Paço, 67,1.00\n"
    source = upload_text(tmp_path, text)
    city = field("city", "canonical_orders", "attributes.city")
    passes = _whole_file_passes(monkeypatch)

    job = run(source, [*fields(), city], options={"ragged_rows": "repair"})

    assert job.status == "succeeded", job.error
    assert passes == [2, None]
    assert job.report["tables"]["canonical_orders"]["inserted"] == 3
