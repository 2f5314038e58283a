"""Workbooks (.xlsx, .xls, .ods) read through one converter; the header row found below title lines."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mappings.intake.header import header_row_detect
from mappings.intake.workbook import cell_text
from mappings.profiling.profile import profile_file
from mappings.services.convert import data_source_read_as
from mappings.services.upload import UploadRejected, data_source_create
from tests.mappings.workbooks import ods_write, xlsx_write

REAL = Path(__file__).resolve().parents[1] / "data" / "real"


def truth_rows(name: str) -> int:
    return json.loads((REAL / "truth" / f"{name}.json").read_text())["rows"]


def stored_rows(source) -> list[list[str]]:
    with open(source.file_path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


MIXED = [
    ["Order", "Placed", "Shipped at", "Qty", "Price", "Paid", "Note", None],
    ["A-1", dt.date(2024, 3, 1), dt.datetime(2024, 3, 2, 14, 5), 2.0, 19.99, True, "first", None],
    ["A-2", dt.date(2024, 3, 9), dt.datetime(2024, 3, 10, 0, 0), 10, 5.5511999999999998, False, None, None],
    [None, None, None, None, None, None, None, None],
    [None, None, None, None, None, None, None, None],
]
MIXED_CSV = [
    ["Order", "Placed", "Shipped at", "Qty", "Price", "Paid", "Note"],
    ["A-1", "2024-03-01", "2024-03-02 14:05:00", "2", "19.99", "true", "first"],
    ["A-2", "2024-03-09", "2024-03-10 00:00:00", "10", "5.5512", "false", ""],
]


def test_cells_are_rendered_as_text_the_same_way_for_every_type():
    assert cell_text(1.0) == "1"
    assert cell_text(-3.0) == "-3"
    assert cell_text(346924.319999999) == "346924.319999999"
    assert cell_text(5.551199999999998) == "5.5512"
    assert cell_text(0.00001) == "0.00001"
    assert cell_text(dt.date(2019, 1, 3)) == "2019-01-03"
    assert cell_text(dt.datetime(2019, 1, 3, 14, 4, 59, 999_999)) == "2019-01-03 14:05:00"
    assert cell_text(dt.time(9, 30)) == "09:30:00"
    assert cell_text(True) == "true" and cell_text(False) == "false"
    assert cell_text("") == "" and cell_text(None) == ""


@pytest.mark.parametrize("write", [xlsx_write, ods_write], ids=["xlsx", "ods"])
def test_a_workbook_upload_is_stored_as_the_csv_the_profile_reads(db, tmp_path, write):
    suffix = ".xlsx" if write is xlsx_write else ".ods"
    path = write(tmp_path / f"orders{suffix}", {"Orders": MIXED})
    source = data_source_create(file=path, user=None)
    assert source.file_format == suffix[1:]
    # Whole numbers without ".0", ISO dates and date-times, booleans, empty cells empty; the empty rows and
    # the column with no value at all are left out.
    assert stored_rows(source) == MIXED_CSV
    assert source.rows == 2
    assert source.dialect["sheet"] == "Orders" and source.dialect["header_row"] == 0

    # The profile of the workbook itself (propose_mapping's path) sees the same cells as the stored upload.
    direct = profile_file(path=path, file_format=suffix[1:])
    stored = profile_file(path=source.file_path, dialect=source.dialect)
    for a, b in zip(direct["columns"], stored["columns"], strict=True):
        assert (a["name"], a["type"], a.get("format"), a["min"], a["max"]) == (
            b["name"], b["type"], b.get("format"), b["min"], b["max"]
        )  # fmt: skip
    placed = next(c for c in direct["columns"] if c["name"] == "Placed")
    assert placed["type"] == "date" and placed["min"] == "2024-03-01"
    qty = next(c for c in direct["columns"] if c["name"] == "Qty")
    assert qty["type"] == "integer" and qty["max"] == 10


def test_the_old_excel_format_is_read_sheet_by_sheet(db, executive, upload_of):
    source = upload_of(REAL / "superstore_orders.xls", executive)
    assert source.file_format == "xls"
    assert source.rows == truth_rows("superstore_orders.xls") == 10194
    assert [s["name"] for s in source.dialect["sheets"]] == ["Orders", "People", "Returns"]
    assert source.dialect["sheet"] == "Orders"
    header, first = stored_rows(source)[:2]
    assert header[:4] == ["Row ID", "Order ID", "Order Date", "Ship Date"]
    # Row ID 1.0 -> "1", Excel dates -> ISO, 5.551199999999998 -> 5.5512 (Excel's 15 digits)
    assert first[:4] == ["1", "US-2019-103800", "2019-01-03", "2019-01-07"]
    assert first[-4:] == ["16.448", "2", "0.2", "5.5512"]
    assert source.status == "profiled"
    order_date = next(c for c in source.profile["columns"] if c["name"] == "Order Date")
    assert order_date["format"] == "%Y-%m-%d"

    returns = data_source_read_as(source=source, sheet="Returns", convert_later=False)
    assert returns.dialect["sheet"] == "Returns"
    assert returns.dialect["columns"] == ["Returned", "Order ID"]
    assert returns.rows == 800
    assert [c["name"] for c in returns.profile["columns"]] == ["Returned", "Order ID"]


@pytest.mark.parametrize("name", ["billing_tracker.xlsx", "financial_sample.xlsx"])
def test_real_workbooks_keep_every_row(db, executive, upload_of, name):
    source = upload_of(REAL / name, executive)
    assert source.rows == truth_rows(name)
    assert len(stored_rows(source)) == truth_rows(name) + 1


def test_financial_sample_cells_read_as_excel_shows_them(db, executive, upload_of):
    source = upload_of(REAL / "financial_sample.xlsx", executive)
    header, first = stored_rows(source)[:2]
    row = dict(zip(header, first, strict=True))
    assert row["Units Sold"] == "1618.5" and row["Manufacturing Price"] == "3" and row[" Sales"] == "32370"
    assert row["Date"] == "2014-01-01" and row["Year"] == "2014"


def test_the_first_sheet_with_data_is_chosen_when_the_first_is_empty(db, tmp_path):
    path = xlsx_write(tmp_path / "book.xlsx", {"Cover": [["Sales export"]], "Data": [["Id", "Amount"], ["1", 2.5]]})
    source = data_source_create(file=path, user=None)
    assert source.dialect["sheet"] == "Data"
    assert stored_rows(source) == [["Id", "Amount"], ["1", "2.5"]]


def test_an_unknown_sheet_is_refused(db, executive, upload_of):
    source = upload_of(REAL / "superstore_orders.xls", executive)
    with pytest.raises(UploadRejected, match="sheets"):
        data_source_read_as(source=source, sheet="Nope", convert_later=False)


# --- the header row ---------------------------------------------------------------------------------------


def test_a_title_a_date_line_and_a_blank_line_above_the_header_are_left_out(db, executive, upload_of):
    source = upload_of(REAL / "invoiceninja_invoices.csv", executive)
    assert source.dialect["header_row"] == 3
    assert source.dialect["columns"][:3] == ["Client", "Email", "Invoice Number"]
    assert source.rows == truth_rows("invoiceninja_invoices.csv")
    payments = upload_of(REAL / "invoiceninja_payments.csv", executive)
    assert payments.dialect["header_row"] == 3
    assert payments.dialect["columns"] == ["Client", "Invoice Number", "Amount", "Date"]
    assert payments.rows == truth_rows("invoiceninja_payments.csv")


def test_the_user_can_put_the_header_back_on_the_first_row(db, executive, upload_of):
    source = upload_of(REAL / "invoiceninja_payments.csv", executive)
    source = data_source_read_as(source=source, header_row=0, convert_later=False)
    assert source.dialect["header_row"] == 0
    assert source.rows == truth_rows("invoiceninja_payments.csv") + 3
    assert source.dialect["columns"][0].startswith("Invoice Ninja")
    source = data_source_read_as(source=source, header_row=3, convert_later=False)
    assert source.dialect["columns"] == ["Client", "Invoice Number", "Amount", "Date"]
    # The original bytes are untouched by either reading (the stored copy was a hard link at first).
    assert Path(source.dialect["original_file"]).read_bytes() == (REAL / "invoiceninja_payments.csv").read_bytes()


def test_a_workbook_with_title_lines_gets_its_header_found(db, tmp_path):
    rows = [["Sales report"], ["Printed 2024-05-01"], [], ["Region", "Month", "Revenue"], ["North", "2024-01", 10.5]]
    rows += [["South", "2024-01", 7]]
    source = data_source_create(file=xlsx_write(tmp_path / "r.xlsx", {"Report": rows}), user=None)
    assert source.dialect["header_row"] == 3
    assert stored_rows(source) == [
        ["Region", "Month", "Revenue"],
        ["North", "2024-01", "10.5"],
        ["South", "2024-01", "7"],
    ]


def test_the_header_is_the_first_row_without_evidence_for_another():
    # A header with a blank cell, then rows of text: nothing says a later row is the header.
    assert header_row_detect([["", "Name", "City"], ["a", "Bob", "Paris"], ["b", "Ann", "Rome"]]) == 0
    # A wide row above the candidate is data, not a title.
    assert header_row_detect([["x", "1", "2"], ["Id", "Name", "Amount"], ["1", "Bob", "3.5"]]) == 0
    # Rows under the candidate that are text too (a second header, not data): no evidence.
    assert header_row_detect([["Title"], ["Id", "Name"], ["Code", "Label"], ["Zone", "Area"]]) == 0


def test_the_header_is_the_row_whose_following_rows_are_its_data():
    rows = [["Export"], [""], ["Id", "Amount", "Date"], ["1", "$3.50", "2024-01-02"], ["2", "4", "03/01/19"]]
    assert header_row_detect(rows) == 2
    # Repeated names are not a header.
    assert header_row_detect([["Export"], ["A", "A"], ["1", "2"]]) == 0


# --- propose_mapping goes through the upload's checks -------------------------------------------------------


def test_propose_mapping_reads_an_xls_workbook_not_its_bytes(db, capsys):
    call_command("propose_mapping", str(REAL / "superstore_orders.xls"), "--json")
    document = json.loads(capsys.readouterr().out)
    assert document["rows"] == 10194
    assert "Order Date" in {p["source_col"] for p in document["proposals"]}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("tool.exe", b"MZ\x90\x00", "Unsupported file type '.exe'"),
        ("data.csv", bytes(range(256)) * 40, "binary file"),
        ("book.xlsx", b"PK\x03\x04 not really a zip", "not a valid .xlsx"),
        ("book.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "workbook could not be read"),
        ("empty.csv", b"", "empty"),
    ],
)
def test_propose_mapping_refuses_what_an_upload_refuses(db, tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UploadRejected, match=reason.replace("(", r"\(").replace(".", r"\.")):
        data_source_create(file=path, user=None)
    with pytest.raises(CommandError) as refused:
        call_command("propose_mapping", str(path), "--json")
    message = str(refused.value)
    assert "\n" not in message and reason in message


def test_propose_mapping_refuses_a_zip_bomb_before_inflating_it(db, tmp_path):
    from tests.data.bad import make_corpus

    path = make_corpus.xlsx_zip_bomb(tmp_path / "bomb.xlsx", uncompressed_bytes=50 * 1024 * 1024)
    with pytest.raises(CommandError, match="zip bomb|would expand"):
        call_command("propose_mapping", str(path))


def test_an_ods_workbook_below_a_title_is_loaded_by_ingest(db, tmp_path):
    from canonical.models import Customer
    from mappings.services.ingest import ingest_file

    rows = [["Customer list"], [None], ["Code", "Company", "Since"], ["C-1", "Alfreds", dt.date(2020, 5, 1)]]
    rows += [["C-2", "Berglunds", dt.date(2021, 6, 2)], [None, None, None]]
    path = ods_write(tmp_path / "customers.ods", {"Customers": rows})
    fields = [
        {"source_col": "Code", "canonical_table": "canonical_customers", "canonical_col": "external_id"},
        {"source_col": "Company", "canonical_table": "canonical_customers", "canonical_col": "name"},
    ]

    source, job = ingest_file(path=path, user=None, fields=fields)

    assert job.status == "succeeded", job.error
    assert (source.file_format, source.dialect["header_row"], source.rows) == ("ods", 2, 2)
    assert sorted(Customer.objects.values_list("external_id", "name")) == [("C-1", "Alfreds"), ("C-2", "Berglunds")]


def test_a_text_export_named_xls_is_read_as_the_text_it_is(db, tmp_path):
    path = tmp_path / "report.xls"
    path.write_text("Order\tAmount\nA-1\t12.50\nA-2\t3\n", encoding="utf-8")
    source = data_source_create(file=path, user=None)
    assert (source.file_format, source.dialect["delimiter"], source.rows) == ("csv", "\t", 2)


def test_conversion_reports_its_progress_once_the_sheet_is_read(tmp_path):
    from mappings.intake.workbook import workbook_to_csv

    seen: list[float] = []
    converted = workbook_to_csv(REAL / "superstore_orders.xls", tmp_path / "out.csv", progress=seen.append)
    assert converted.rows == 10194
    assert seen[0] == 0.5 and seen == sorted(seen) and all(0.5 <= f < 1 for f in seen)
