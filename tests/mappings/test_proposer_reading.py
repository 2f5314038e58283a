"""The proposer reads real-shaped exports the way a person would: what repeats, what varies, what the
values are. Each file below is a small copy of a shape seen in real exports (an invoicing tool's items
export, an accounting system's ledger, a marketplace's sellers and order items, a billing tracker)."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from canonical.models import Expense, Invoice
from mappings.intake.dialect import sniff_file
from mappings.profiling.profile import profile_file
from mappings.proposer.gate import auto_gate
from mappings.proposer.propose import propose_from_profile


def _propose(path, known_keys=None):
    dialect = sniff_file(path).as_json()
    profile = profile_file(path=path, dialect=dialect)
    doc = propose_from_profile(file=path.name, profile=profile, dialect=dialect, known_keys=known_keys)
    by_col: dict[str, list[dict]] = {}
    for p in doc["proposals"]:
        by_col.setdefault(p["source_col"], []).append(p)
    return profile, doc, by_col


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


def _gate(profile, doc):
    accepted = [p for p in doc["proposals"] if p["canonical_table"] and p["confidence"] >= 0.7]
    return auto_gate(proposals=doc["proposals"], accepted=accepted, profile=profile, threshold=0.7)


# An invoicing tool's export: one row per item, the invoice's fields repeated on each of its items.
ITEMS = (
    "Client Name,Invoice #,Date Issued,Invoice Status,Date Paid,Item Name,Rate,Quantity,Line Total,Currency\n"
    + "".join(
        f"Client {i % 3},{1000 + i},2021-0{1 + i % 9}-1{i % 9},sent,,Item {j},{10 + j}.00,{j + 1},"
        f"{(10 + j) * (j + 1)}.00,USD\n"
        for i in range(6)
        for j in range(3)
    )
)


def test_an_invoice_number_repeated_on_its_items_is_the_invoice_key_and_a_line_total_not_its_amount(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(ITEMS)
    profile, doc, by_col = _propose(path)

    key = by_col["Invoice #"][0]
    assert key["canonical_col"] == "external_id" and key["confidence"] >= 0.8
    assert "repeats with the same invoice facts on each row" in key["reason"]
    assert _targets(by_col, "Line Total") == set()
    assert "varies within 'Invoice #'" in by_col["Line Total"][0]["reason"]
    # So --auto has no invoice amount and says which column it is not.
    problems = [p.line() for p in _gate(profile, doc)]
    assert any("canonical_invoices.amount" in line and "'Line Total' varies within" in line for line in problems)


def test_an_invoice_key_repeating_with_identical_invoice_columns_passes_the_gate(tmp_path):
    rows = "".join(f"Client {i % 4},{i},${10 + i}.50,2020-02-{1 + i % 27:02d},Item {i}\n" for i in range(30))
    rows += "Client 1,1,$11.50,2020-02-02,Item 1\n"  # the export printed invoice 1 twice
    path = tmp_path / "invoice.csv"
    path.write_text("Client,Invoice Number,Amount,Invoice Date,Item Product\n" + rows)
    profile, doc, by_col = _propose(path)

    assert _targets(by_col, "Invoice Number") == {"canonical_invoices.external_id"}
    assert _targets(by_col, "Amount") == {"canonical_invoices.amount"}
    assert [p.line() for p in _gate(profile, doc)] == []


def test_a_bare_name_and_email_in_an_invoice_list_are_its_customers(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(
        "Id,AccountId,DocumentDate,DocumentNumber,Name,EmailRecipient,State,TotalAmount\n"
        "a1,24379237,2021-01-28,1,Barry Gordon,barry@capitalcity.gov,synced,953.55\n"
        "a2,24379237,2021-01-28,2,James Gordon,james@gotham.gov,synced,70.20\n"
        "a3,24379237,2021-01-29,3,Selina Kyle,selina@gotham.gov,synced,120.00\n"
        "a4,24379237,2021-01-30,4,Bruce Wayne,bruce@wayne.com,synced,99.00\n"
    )
    _, _, by_col = _propose(path)

    assert _targets(by_col, "Name") <= {"canonical_customers.name", "canonical_invoices.customer_id"}
    assert _targets(by_col, "Name")
    assert _targets(by_col, "EmailRecipient") <= {"canonical_customers.email", "canonical_invoices.customer_id"}
    # One account number on every row while the customers differ: it identifies none of them.
    assert _targets(by_col, "AccountId") == set()
    # "synced" is no invoice status: the state of something else.
    assert _targets(by_col, "State") == set()
    assert "none of its values (synced) reads as a invoice status" in by_col["State"][0]["reason"]


LEDGER = (
    "Transaction ID,Transaction Date,Account Name,Amount,Debit Amount,Credit Amount,Customer,Vendor,"
    "Account Group,Account Type\n"
    "T1,2016-02-20,Cash on Hand,-20.00,,20.00,,Office Store,Asset,Cash and Bank\n"
    "T1,2016-02-20,Business Licenses,20.00,20.00,,,Office Store,Expense,Operating Expense\n"
    "T2,2016-03-01,Cash on Hand,-96.00,,96.00,,Computer World,Asset,Cash and Bank\n"
    "T2,2016-03-01,Computer Hardware,96.00,96.00,,,Computer World,Expense,Operating Expense\n"
    "T3,2016-03-05,Accounts Receivable,10.00,10.00,,Ann,,Asset,System Receivable Invoice\n"
    "T3,2016-03-05,Sales,10.00,,10.00,Ann,,Income,Income\n"
)


@pytest.mark.django_db
def test_a_ledger_is_read_as_postings_and_auto_will_not_load_it(tmp_path, capsys):
    path = tmp_path / "expenses.csv"
    path.write_text(LEDGER)
    profile, doc, by_col = _propose(path)

    # An account is a ledger account, not a customer; the name is the account, group and type classify it.
    assert not any("canonical_customers" in t for c in by_col for t in _targets(by_col, c))
    assert _targets(by_col, "Account Name") == {"canonical_expenses.category"}
    assert _targets(by_col, "Vendor") == {"canonical_expenses.vendor"}
    with pytest.raises(CommandError, match="never both set on a row: a double-entry ledger"):
        call_command("ingest", str(path), "--auto", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["needs_review"][0]["source_col"] == "Debit Amount"
    assert not Expense.objects.exists()


def test_an_estimated_delivery_date_is_a_plan_not_the_shipped_date(tmp_path):
    rows = "".join(
        f"o{i},c{i},delivered,2017-10-{1 + i:02d} 10:56,2017-10-{3 + i:02d} 19:55,2017-10-{18 + i % 9:02d} 00:00\n"
        for i in range(12)
    )
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,order_status,order_purchase_timestamp,order_delivered_carrier_date,"
        "order_estimated_delivery_date\n" + rows
    )
    _, _, by_col = _propose(path)

    assert _targets(by_col, "order_purchase_timestamp") == {"canonical_orders.order_date"}
    assert "canonical_orders.shipped_date" not in _targets(by_col, "order_estimated_delivery_date")
    assert "'estimated': a planned date" in by_col["order_estimated_delivery_date"][0]["reason"]


def test_a_billing_trackers_only_date_and_its_amount_in_rupees_make_the_invoice(tmp_path):
    rows = "".join(
        f"customer {i % 7},AA{i:03d}O01,2025-02-{1 + i % 27:02d},{1000 + i * 37.31:.2f},"
        f"{(1000 + i * 37.31) / 86.61:.10f},{'Active' if i % 5 else 'Expired'}\n"
        for i in range(40)
    )
    path = tmp_path / "billing_tracker.csv"
    path.write_text("Sold to Customer Name Group,MPS ID,Last_Created_On,Net_Billed_INR,Net_Billed_USD,Status\n" + rows)
    profile, doc, by_col = _propose(path)

    date = by_col["Last_Created_On"][0]
    assert date["canonical_col"] == "invoice_date" and date["confidence"] >= 0.8
    assert "the file's only date column" in date["reason"]
    assert _targets(by_col, "Net_Billed_INR") == {"canonical_invoices.amount"}  # INR is the unit
    assert _targets(by_col, "Net_Billed_USD") == set()  # a conversion: more than two decimals
    assert _targets(by_col, "Status") == set()  # Active/Expired: the account's, not the invoice's
    assert _targets(by_col, "MPS ID") == {"canonical_invoices.external_id"}
    assert by_col["MPS ID"][0]["confidence"] >= 0.8


def test_a_sellers_list_is_suppliers_and_an_items_seller_is_the_lines_supplier(tmp_path):
    sellers = tmp_path / "sellers.csv"
    sellers.write_text(
        "seller_id,seller_zip_code_prefix,seller_city,seller_state\n"
        + "".join(f"s{i:04x}abc,1302{i},campinas,SP\n" for i in range(10))
    )
    _, _, by_col = _propose(sellers)
    assert _targets(by_col, "seller_id") == {"canonical_suppliers.external_id"}

    items = tmp_path / "order_items.csv"
    items.write_text(
        "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value\n"
        + "".join(
            f"o{i:04x},{j + 1},p{(i + j) % 9:03x},s{i % 10:04x}abc,2017-09-19 09:45:35,{58 + j}.90,13.29\n"
            for i in range(20)
            for j in range(1 + i % 3)
        )
    )
    _, _, by_col = _propose(items)
    assert _targets(by_col, "seller_id") == {"canonical_order_lines.supplier_id"}
    assert "canonical_order_lines.order_id" in _targets(by_col, "order_id")


def test_values_that_are_keys_already_loaded_name_the_entity_a_column_refers_to(tmp_path):
    items = tmp_path / "items.csv"
    items.write_text(
        "order,line,product,partner,qty,price\n"
        + "".join(f"O{i},{j + 1},P{j},X-{i % 4},1,{5 + j}.00\n" for i in range(12) for j in range(2))
    )
    known = {"partner": {"canonical_suppliers": (4, 4)}}
    _, _, by_col = _propose(items, known_keys=known)

    assert _targets(by_col, "partner") == {"canonical_order_lines.supplier_id"}
    assert "values are keys of suppliers already loaded (4 of 4)" in by_col["partner"][0]["reason"]


@pytest.mark.django_db
def test_auto_loads_an_items_export_once_per_invoice(tmp_path, capsys):
    rows = "".join(f"Client {i % 4},{i},${10 + i}.50,2020-02-{1 + i % 27:02d},Item {i}\n" for i in range(30))
    rows += "Client 1,1,$11.50,2020-02-02,Item 1\n"
    path = tmp_path / "invoice.csv"
    path.write_text("Client,Invoice Number,Amount,Invoice Date,Item Product\n" + rows)
    call_command("ingest", str(path), "--auto", "--json")
    report = json.loads(capsys.readouterr().out)

    assert report["tables"]["canonical_invoices"]["inserted"] == 30
    assert Invoice.objects.get(external_id="1").amount == 11.5


def test_a_payment_keyed_by_an_order_id_refers_to_the_order_and_needs_no_date(tmp_path):
    # A marketplace's order payments: several payments (card, voucher) per order, no date of their own.
    rows = "".join(
        f"o{i:05x},{j + 1},{('credit_card', 'voucher', 'boleto')[(i + j) % 3]},{1 + j},{20 + i + j}.{i % 10}0\n"
        for i in range(30)
        for j in range(1 + i % 2)
    )
    path = tmp_path / "order_payments.csv"
    path.write_text("order_id,payment_sequential,payment_type,payment_installments,payment_value\n" + rows)
    profile, doc, by_col = _propose(path)

    assert _targets(by_col, "order_id") == {"canonical_payments.order_id"}
    assert _targets(by_col, "payment_type") == {"canonical_payments.method"}
    assert _targets(by_col, "payment_value") == {"canonical_payments.amount"}
    assert not any(p.problem.startswith("required canonical_payments") for p in _gate(profile, doc))


def test_payments_of_orders_that_mostly_pay_once_are_payments_not_order_lines(tmp_path):
    # As in the Olist payments file: 95% of the orders have one payment, a few add a voucher. What varies within
    # those few (the payment's type and value) says what a row is, though nothing varies within most orders.
    rows = "".join(
        f"o{i:05x},{j + 1},{('credit_card', 'voucher')[j]},{1 + i % 5 if j == 0 else 1},{20 + i}.{i % 10}0\n"
        for i in range(60)
        for j in range(1 + (i % 20 == 0))
    )
    path = tmp_path / "olist_order_payments_dataset.csv"
    path.write_text("order_id,payment_sequential,payment_type,payment_installments,payment_value\n" + rows)
    profile, doc, by_col = _propose(path)

    assert _targets(by_col, "order_id") == {"canonical_payments.order_id", "canonical_payments.external_id"}
    key = next(p for p in by_col["order_id"] if p["canonical_col"] == "external_id")
    assert key["transform"] == [{"op": "concat", "columns": ["payment_sequential"], "separator": "-"}]
    assert "the payment's key" in key["reason"]
    assert _targets(by_col, "payment_type") == {"canonical_payments.method"}
    assert _targets(by_col, "payment_value") == {"canonical_payments.amount"}
    assert "vary within some of its values: one row per payment" in by_col["order_id"][0]["reason"]
    assert _gate(profile, doc) == []


def test_an_orders_shipping_and_tax_columns_are_its_amounts_not_its_total(tmp_path):
    rows = "".join(
        f"#{1000 + i},2024-03-{1 + i:02d},{40 + i}.00,4.95,{(40 + i) * 0.2:.2f},{48 + i}.95\n" for i in range(20)
    )
    path = tmp_path / "orders.csv"
    path.write_text("Name,Created at,Subtotal,Shipping,Taxes,Total\n" + rows)
    _, _, by_col = _propose(path)

    assert _targets(by_col, "Shipping") == {"canonical_orders.shipping_amount"}
    assert _targets(by_col, "Taxes") == {"canonical_orders.tax_amount"}
    assert _targets(by_col, "Total") == {"canonical_orders.amount"}
