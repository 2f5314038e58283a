from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from mappings.models import DataSource, FieldMapping, Mapping
from mappings.profiling.profile import profile_file
from mappings.proposer.propose import propose_from_profile
from mappings.proposer.text import normalize_header
from mappings.services.propose import mapping_propose
from tests.mappings.conftest import NORTHWIND


def _propose(path, domain_hint=None, learned=None):
    doc = propose_from_profile(
        file=path.name, profile=profile_file(path=path), dialect={}, domain_hint=domain_hint, learned=learned
    )
    return doc, {p["source_col"]: p for p in doc["proposals"]}


def _target(p):
    return f"{p['canonical_table']}.{p['canonical_col']}" if p["canonical_table"] else None


@pytest.mark.parametrize(
    ("header", "phrase"),
    [("customerID", "customer id"), ("Order Date (UTC)", "order date"), ("cust_eml", "customer email"),
     ("Rechnungs-Nr.", "rechnungs number"), ("Qty", "quantity"), ("E-Mail", "email"), ("Order #", "order number"),
     ("Fälligkeit", "falligkeit")],
)  # fmt: skip
def test_headers_are_normalized(header, phrase):
    assert normalize_header(header) == phrase


def test_northwind_employees_map_names_by_concat_and_managers_by_reports_to():
    _, by_col = _propose(NORTHWIND / "employees.csv")
    assert _target(by_col["employeeID"]) == "canonical_employees.external_id"
    assert _target(by_col["firstName"]) == "canonical_employees.name"
    assert by_col["firstName"]["transform"] == [{"op": "concat", "columns": ["lastName"], "separator": " "}]
    assert _target(by_col["lastName"]) is None and "concat" in by_col["lastName"]["reason"]
    assert _target(by_col["reportsTo"]) == "canonical_employees.manager_id"
    assert _target(by_col["hireDate"]) == "canonical_employees.hire_date"
    assert by_col["hireDate"]["transform"] == [{"op": "parse_date", "format": "%Y-%m-%d %H:%M:%S.%f"}]
    assert _target(by_col["birthDate"]) is None
    assert _target(by_col["notes"]) is None


def test_northwind_orders_reference_customers_and_employees():
    doc, by_col = _propose(NORTHWIND / "orders.csv")
    assert _target(by_col["orderID"]) == "canonical_orders.external_id"
    assert _target(by_col["customerID"]) == "canonical_orders.customer_id"
    assert _target(by_col["employeeID"]) == "canonical_orders.sales_rep_id"
    assert _target(by_col["orderDate"]) == "canonical_orders.order_date"
    assert _target(by_col["shipCity"]) is None  # where a parcel went, not a customer's city
    assert doc["rows"] == 830


def test_northwind_order_details_feed_order_lines():
    _, by_col = _propose(NORTHWIND / "order-details.csv")
    assert {c: _target(p) for c, p in by_col.items()} == {
        "orderID": "canonical_order_lines.order_id",
        "productID": "canonical_order_lines.product_id",
        "unitPrice": "canonical_order_lines.unit_price",
        "quantity": "canonical_order_lines.quantity",
        "discount": "canonical_order_lines.discount",
    }


def test_suppliers_contact_name_is_not_taken_for_a_customer():
    _, by_col = _propose(NORTHWIND / "suppliers.csv")
    assert _target(by_col["companyName"]) == "canonical_suppliers.name"
    assert _target(by_col["contactName"]) is None
    assert _target(by_col["city"]) is None


def test_a_denormalized_file_feeds_several_tables_and_its_keys_feed_references(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "Order ID,Order Date,Customer ID,Customer Name,Customer Email,Status,Total\n"
        "A1,2024-01-03,C1,Ann Corp,ann@example.com,wc-completed,10.00\n"
        "A2,2024-01-04,C2,Bob Ltd,bob@example.com,wc-pending,20.00\n"
        "A3,2024-01-05,C1,Ann Corp,ann@example.com,wc-cancelled,30.00\n"
    )
    doc, _ = _propose(path)
    targets = {(p["source_col"], _target(p)) for p in doc["proposals"]}
    assert ("Customer ID", "canonical_customers.external_id") in targets
    assert ("Customer ID", "canonical_orders.customer_id") in targets
    assert ("Customer Name", "canonical_customers.name") in targets
    status = next(p for p in doc["proposals"] if p["source_col"] == "Status")
    assert status["transform"] == [
        {"op": "map_values", "map": {"wc-completed": "completed", "wc-pending": "pending", "wc-cancelled": "cancelled"}}
    ]


def test_noise_columns_stay_unmapped(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("Customer ID,Name,Tags,Accepts Marketing,Risk Level\nC1,Ann,vip,yes,low\nC2,Bob,,no,high\n")
    _, by_col = _propose(path)
    for noise in ("Tags", "Accepts Marketing", "Risk Level"):
        assert _target(by_col[noise]) is None or by_col[noise]["confidence"] < 0.6


def test_a_header_mapped_before_is_proposed_that_way_first_and_says_so(db, executive, upload_of, tmp_path):
    path = tmp_path / "kunden.csv"
    path.write_text("Feld-A,Firma\nK1,Ann GmbH\nK2,Bob AG\n")
    source = upload_of(path, executive)
    before = {p["source_col"]: p for p in mapping_propose(source=source, user=executive)["proposals"]}
    assert _target(before["Feld-A"]) != "canonical_customers.segment"

    mapping = Mapping.objects.create(source=source, version=1, created_by=executive)
    FieldMapping.objects.create(
        mapping=mapping, source=source, version=1, source_col="Feld-A",
        canonical_table="canonical_customers", canonical_col="segment",
    )  # fmt: skip
    after = {p["source_col"]: p for p in mapping_propose(source=source, user=executive)["proposals"]}
    assert _target(after["Feld-A"]) == "canonical_customers.segment"
    assert "mapped before" in after["Feld-A"]["reason"]
    assert after["Feld-A"]["confidence"] >= 0.9


def test_propose_mapping_command_prints_the_contract_json_and_writes_nothing(db, capsys):
    count = DataSource.objects.count()
    call_command("propose_mapping", str(NORTHWIND / "products.csv"), "--json")
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"file", "rows", "dialect", "proposals"}
    assert doc["rows"] == 77
    assert doc["dialect"]["delimiter"] == ","
    assert {p["source_col"] for p in doc["proposals"]} >= {"productID", "productName", "unitPrice"}
    assert DataSource.objects.count() == count


def test_propose_mapping_reads_a_windows_1252_file_headers_as_written(db, capsys, tmp_path):
    # A German bank's export in cp1252: the intake transcodes it to UTF-8, and the copy is read as UTF-8.
    path = tmp_path / "konto.csv"
    path.write_bytes(
        "Buchungstag;Empfänger;Betrag;Währung\n10.10.2017;Müller;-1,50;EUR\n11.10.2017;Björn;2,50;EUR\n".encode(
            "cp1252"
        )
    )
    call_command("propose_mapping", str(path), "--json")
    doc = json.loads(capsys.readouterr().out)
    assert doc["dialect"]["encoding"] == "cp1252"  # the original's, as the upload shows it
    assert [p["source_col"] for p in doc["proposals"]][:4] == ["Buchungstag", "Empfänger", "Betrag", "Währung"]


def test_propose_mapping_command_fails_with_a_one_line_reason(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("propose_mapping", "/nonexistent.csv", "--json")


def test_propose_mapping_reads_the_file_in_place_and_leaves_it_as_it_was(db, capsys, tmp_path, settings):
    # Nothing is stored: the intake links the file instead of copying it, and every later step writes beside it.
    path = tmp_path / "orders.csv"
    path.write_bytes(b"\xef\xbb\xbfOrder ID,Order Date,Total\r\nA1,2024-01-05,10.50\r\nA2,2024-01-06,7.25\r\n")
    before = path.read_bytes()
    call_command("propose_mapping", str(path), "--json")
    assert json.loads(capsys.readouterr().out)["rows"] == 2
    assert path.read_bytes() == before
    assert path.stat().st_nlink == 1  # the link went with the intake's temporary folder
    assert list(tmp_path.iterdir()) == [path]


def test_propose_mapping_refuses_a_file_past_the_upload_limit_before_reading_it(db, tmp_path, settings):
    from django.core.management.base import CommandError

    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    path = tmp_path / "big.csv"
    path.write_text("id,amount\n" + "".join(f"{i},{i}.50\n" for i in range(120_000)))
    with pytest.raises(CommandError, match=r"big.csv: The file is larger than the upload limit of 1 MB"):
        call_command("propose_mapping", str(path), "--json")


def test_domain_hint_decides_between_lookalike_tables(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("ID,Name,Email,Phone\n1,Ann,ann@x.com,(206) 555-1234\n2,Bob,bob@x.com,(206) 555-9876\n")
    _, by_col = _propose(path, domain_hint="suppliers")
    assert _target(by_col["Name"]) == "canonical_suppliers.name"
    _, by_col = _propose(path, domain_hint="customers")
    assert _target(by_col["Email"]) == "canonical_customers.email"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def _propose_sniffed(path):
    from mappings.intake.dialect import sniff_file

    dialect = sniff_file(path).as_json()
    doc = propose_from_profile(file=path.name, profile=profile_file(path=path, dialect=dialect), dialect=dialect)
    return doc, {p["source_col"]: p for p in doc["proposals"]}


def test_a_bare_id_header_is_the_key_of_the_table_the_file_feeds(tmp_path):
    rows = "".join(f"cus_{i:06x},user{i}@example.com,User {i},Lyon,France\n" for i in range(30))
    _, by_col = _propose(_write(tmp_path, "export.csv", "id,Email,Name,City,Country\n" + rows))
    assert _target(by_col["id"]) == "canonical_customers.external_id"


def test_iso_timestamps_in_utc_with_a_z_are_datetimes_and_a_time_of_day_alone_stays_unmapped(tmp_path):
    rows = "".join(f"P{i},2024-04-{1 + i % 28:02d}T14:04:00Z,{10 + i}.00,EUR,{i % 24:02d}:15:00\n" for i in range(30))
    path = _write(tmp_path, "payments.csv", "Payment ID,PaymentTime,Amount,Currency,Transaction time\n" + rows)
    columns = {c["name"]: c for c in profile_file(path=path)["columns"]}
    assert (columns["PaymentTime"]["type"], columns["PaymentTime"]["format"]) == ("datetime", "%Y-%m-%dT%H:%M:%SZ")
    _, by_col = _propose(path)
    assert _target(by_col["PaymentTime"]) == "canonical_payments.payment_date"
    assert _target(by_col["Transaction time"]) is None
    assert by_col["Transaction time"]["reason"] == "a time of day without its date"


def test_a_customer_number_or_company_in_an_invoice_list_is_the_invoices_reference_to_its_customer(tmp_path):
    es = "".join(f"F-{i};CL{i % 7:03d};{10 + i},50;0{1 + i % 9}/02/2024\n" for i in range(30))
    _, by_col = _propose_sniffed(
        _write(tmp_path, "facturas.csv", "Ref. fac;Número de cliente;Total;Fecha de emisión\n" + es)
    )
    assert _target(by_col["Ref. fac"]) == "canonical_invoices.external_id"
    assert _target(by_col["Número de cliente"]) == "canonical_invoices.customer_id"
    assert _target(by_col["Fecha de emisión"]) == "canonical_invoices.invoice_date"
    fr = "".join(f"FA-{i};Société {i % 5};{10 + i},00\n" for i in range(30))
    _, by_col = _propose_sniffed(_write(tmp_path, "factures.csv", "Numéro de facture;Société;Montant\n" + fr))
    assert _target(by_col["Société"]) == "canonical_invoices.customer_id"
    assert "so it is the canonical_invoices.customer_id reference" in by_col["Société"]["reason"]


def test_a_marketplace_report_with_order_ids_skus_and_quantities_feeds_orders_and_their_lines(tmp_path):
    rows = "".join(
        f"{100 + i}-{i:07d},2024-04-{1 + i % 28:02d}T10:00:00Z,Shipped,SKU-{i % 9},{1 + i % 4},EUR,{5 + i}.90\n"
        for i in range(30)
    )
    header = "amazon-order-id\tpurchase-date\torder-status\tsku\tquantity\tcurrency\titem-price\n"
    doc, by_col = _propose_sniffed(_write(tmp_path, "all_orders.tsv", header + rows.replace(",", "\t")))
    assert _target(by_col["purchase-date"]) == "canonical_orders.order_date"
    assert _target(by_col["sku"]) == "canonical_order_lines.product_id"
    assert _target(by_col["quantity"]) == "canonical_order_lines.quantity"
    targets = {_target(p) for p in doc["proposals"]}
    assert "canonical_order_lines.order_id" in targets  # the order id feeds both tables
