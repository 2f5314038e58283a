"""The proposer reads real-shaped exports the way a person would: what repeats, what varies, what the
values are. Each file below is a small copy of a shape seen in real exports (an invoicing tool's items
export, an accounting system's ledger, a marketplace's sellers and order items, a billing tracker)."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from canonical.models import Expense, Invoice
from mappings.proposer.gate import auto_gate
from tests.mappings.helpers import propose_by_column

_propose = propose_by_column


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


# A web shop's invoice lines (the UCI Online Retail shape): the invoice number repeats over the lines of one
# sale, cancellations carry a "C" before the number, the customer id was written as a float by a spreadsheet,
# and the product is a stock code with its description.
STOCK = [("85123A", "WHITE HANGING HEART T-LIGHT HOLDER"), ("22423", "REGENCY CAKESTAND 3 TIER")]
STOCK += [(f"2{i:04d}", f"SET OF {i} PAPER CUPS") for i in range(10)]


def _retail_lines() -> str:
    rows = []
    for i in range(40):
        number = f"C{536000 + i}" if i % 13 == 5 else str(536000 + i)
        customer = "" if i % 7 == 3 else f"{17000 + i % 9}.0"
        for j in range(1 + i % 3):
            code, name = STOCK[(i + j) % len(STOCK)]
            quantity = -1 if number.startswith("C") else 1 + j
            rows.append(f"{number},{code},{name},{quantity},12/{1 + i % 28}/10 8:26,{2 + j}.55,{customer},France")
    return "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" + "\n".join(rows)


def test_an_invoice_number_repeating_over_quantities_and_prices_is_the_key_of_a_sales_lines(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(_retail_lines())
    profile, doc, by_col = _propose(path)
    columns = {c["name"]: c for c in profile["columns"]}

    # Numbers and the same numbers with a "C" are one column of codes, not amounts with a few bad values.
    assert columns["InvoiceNo"]["type"] == "identifier"
    # 17003.0 is the whole number 17003 that a spreadsheet wrote as a float.
    assert columns["CustomerID"]["type"] == "integer" and columns["CustomerID"]["written_as"] == "float"
    # No invoice total, no invoice-only fact (a due date, a paid date): the invoice is the receipt of a sale.
    assert _targets(by_col, "InvoiceNo") == {"canonical_orders.external_id", "canonical_order_lines.order_id"}
    assert "the invoice number repeats over the lines of one sale" in by_col["InvoiceNo"][0]["reason"]
    assert _targets(by_col, "InvoiceDate") == {"canonical_orders.order_date"}
    assert _targets(by_col, "Quantity") == {"canonical_order_lines.quantity"}
    assert _targets(by_col, "UnitPrice") == {"canonical_order_lines.unit_price"}
    # The code that varies within the sale is what each line sold; its description goes one-to-one with it.
    assert _targets(by_col, "StockCode") == {"canonical_order_lines.product_id", "canonical_products.external_id"}
    assert "what each line sold" in by_col["StockCode"][0]["reason"]
    assert _targets(by_col, "Description") == {"canonical_products.name"}
    assert "one value per 'StockCode' and one 'StockCode' per value" in by_col["Description"][0]["reason"]
    # The customer's key, as other files write it (14911, not 14911.0), and its country.
    customer = next(p for p in by_col["CustomerID"] if p["canonical_col"] == "customer_id")
    assert customer["transform"] == [{"op": "split_part", "separator": ".", "index": 1}]
    assert _targets(by_col, "Country") == {"canonical_customers.country"}
    assert [p.line() for p in _gate(profile, doc)] == []


def test_an_order_id_repeating_beside_a_unique_details_id_is_the_orders_key(tmp_path):
    # A pizza shop's order details: the details' own id is unique, the order id repeats, digits are grouped
    # by a space (1 957) and the pizza sold is a code with no header saying "product".
    pizzas = ("hawaiian", "classic_dlx", "five_cheese", "bbq_ckn", "thai_ckn", "big_meat", "cali_ckn", "mexicana")
    sizes = [f"{p}_{s}" for p in pizzas for s in "sml"]
    rows, n = [], 0
    for order in range(1, 1500, 3):
        for j in range(1 + order % 4):
            n += 1
            rows.append(f"{n:,};{order:,};{sizes[(order * 7 + j) % len(sizes)]};{1 + j % 2}".replace(",", "\u00a0"))
    path = tmp_path / "order_details.csv"
    path.write_text('"order_details_id";"order_id";"pizza_size_id";"quantity"\n' + "\n".join(rows) + "\n")
    profile, doc, by_col = _propose(path)

    assert {c["name"]: c.get("written_as") for c in profile["columns"]}["order_id"] == "grouped"
    assert "canonical_order_lines.order_id" in _targets(by_col, "order_id")
    assert _targets(by_col, "order_details_id") == {"canonical_order_lines.external_id"}
    assert "the id of the order details, its own key" in by_col["order_details_id"][0]["reason"]
    assert _targets(by_col, "pizza_size_id") == {"canonical_order_lines.product_id"}
    assert _targets(by_col, "quantity") == {"canonical_order_lines.quantity"}


def test_lines_whose_order_number_is_unique_still_write_their_orders(tmp_path):
    # One line per order in this extract (AdventureWorks' sales): the grain cannot tell the order's columns
    # from the line's, so the header decides between the two; a product's stock date is neither.
    rows = "".join(
        f"{1 + i % 28:02d}-01-2015,{1 + i % 27:02d}-09-2001,SO{45000 + i},{300 + i % 12},{11000 + i},1,{1 + i % 3}\n"
        for i in range(60)
    )
    path = tmp_path / "sales_2015.csv"
    path.write_text("OrderDate,StockDate,OrderNumber,ProductKey,CustomerKey,OrderLineItem,OrderQuantity\n" + rows)
    profile, doc, by_col = _propose(path)

    assert _targets(by_col, "OrderNumber") == {"canonical_orders.external_id", "canonical_order_lines.order_id"}
    assert _targets(by_col, "OrderDate") == {"canonical_orders.order_date"}
    assert "one order line per order" in by_col["OrderDate"][0]["reason"]
    assert _targets(by_col, "StockDate") == set()
    assert _targets(by_col, "CustomerKey") == {"canonical_orders.customer_id"}
    assert _targets(by_col, "OrderQuantity") == {"canonical_order_lines.quantity"}
    # A line number that is 1 on every row is no line's key.
    assert _targets(by_col, "OrderLineItem") == set()


def test_a_classic_sales_export_with_glued_capital_headers_reads_as_lines_customers_and_products(tmp_path):
    # The classicmodels sales lines (Kaggle's sales_data_sample): headers glued in capitals, order and
    # customer fields repeated on every line, a product line shared by many product codes.
    lines = ["ORDERNUMBER,QUANTITYORDERED,PRICEEACH,SALES,ORDERDATE,PRODUCTLINE,PRODUCTCODE,CUSTOMERNAME,CITY,"
             "CONTACTLASTNAME,CONTACTFIRSTNAME"]  # fmt: skip
    customers = [("Land of Toys Inc.", "NYC", "Yu", "Kwai"), ("Reims Collectables", "Reims", "Henriot", "Paul")]
    customers += [(f"Gift Shop {i}", f"Town {i}", f"Last{i}", f"First{i}") for i in range(6)]
    for order in range(40):
        name, city, last, first = customers[order % len(customers)]
        for j in range(3):
            code = (order + 5 * j) % 24
            quantity, price = 20 + j, 50 + code
            line = (
                f"{10100 + order},{quantity},{price}.5,{quantity * (price + 0.5):.2f},0{1 + order % 9}/1{order % 9}/03"
            )
            lines.append(
                f"{line},{('Motorcycles', 'Classic Cars', 'Ships')[code % 3]},S{code}_1678,{name},{city},{last},{first}"
            )
    path = tmp_path / "sales_data_sample.csv"
    path.write_text("\n".join(lines) + "\n")
    profile, doc, by_col = _propose(path)

    # "QUANTITYORDERED" is "quantity ordered": words the vocabulary knows, glued by the export.
    assert _targets(by_col, "QUANTITYORDERED") == {"canonical_order_lines.quantity"}
    assert _targets(by_col, "PRICEEACH") == {"canonical_order_lines.unit_price"}
    # A customer's name that determines its city is the customer's key: the customer is written too.
    assert "canonical_customers.name" in _targets(by_col, "CUSTOMERNAME")
    assert _targets(by_col, "CITY") == {"canonical_customers.city"}
    # A contact's first and last name are a person's: never a product's name.
    assert not _targets(by_col, "CONTACTFIRSTNAME") & {"canonical_products.name"}
    # 3 product lines for 24 product codes: a grouping of the products, their category, not their name.
    assert _targets(by_col, "PRODUCTLINE") == {"canonical_products.category"}
    assert "a grouping of the products" in by_col["PRODUCTLINE"][0]["reason"]
    assert [p.line() for p in _gate(profile, doc)] == []


def test_a_file_without_a_date_is_a_price_list_not_an_invoice_list(tmp_path):
    # The pizza shop's sizes: three "..._id" columns and a price per unit. An invoice needs a date and an
    # amount: a file with no date cannot be invoices, whatever "id" suggests; it can be the products.
    rows = "".join(f"pizza{i}_{s};{i};{k + 1};{12 + i % 9},{25 * k}\n" for i in range(30) for k, s in enumerate("sml"))
    path = tmp_path / "pizza_sizes.csv"
    path.write_text('"pizza_size_id";"pizza_id";"size_id";"unit_price"\n' + rows)
    profile, doc, by_col = _propose(path)

    assert _targets(by_col, "pizza_size_id") == {"canonical_products.external_id"}
    assert _targets(by_col, "unit_price") == {"canonical_products.price"}
    assert not any(p["canonical_table"] == "canonical_invoices" for p in doc["proposals"])


def test_an_invoice_total_beats_its_balance_and_its_items_are_not_kept_on_the_invoice(tmp_path):
    # An invoicing tool's export (Zoho's shape): one row per item, the invoice's total and balance repeated.
    from mappings.proposer.attributes import keep_as_attributes

    rows = []
    for i in range(8):
        total = 100 + 10 * i
        for j in range(1 + i % 3):
            balance = 0 if i % 2 else total
            status = "Paid" if i % 2 else "Sent"
            rows.append(f"2021-03-{1 + i:02d},INV-{i:04d},{status},C{i % 3},Item {j},{j + 1},{total}.00,{balance}.00")
    path = tmp_path / "invoices.csv"
    path.write_text(
        "Invoice Date,Invoice Number,Invoice Status,Customer ID,Item Name,Quantity,Total,Balance\n" + "\n".join(rows)
    )
    profile, doc, by_col = _propose(path)

    assert _targets(by_col, "Total") == {"canonical_invoices.amount"}
    assert _targets(by_col, "Balance") == set()  # what remains to be paid is no invoice's amount
    kept = {p["source_col"]: p for p in keep_as_attributes(proposals=doc["proposals"], profile=profile, registered={})}
    assert kept["Item Name"]["canonical_table"] is None
    assert "varies within 'Invoice Number': a value of each item, which no table holds" in kept["Item Name"]["reason"]
    assert kept["Balance"]["canonical_col"] == "attributes.balance"  # constant within the invoice: kept on it


def test_returns_that_repeat_a_product_on_one_day_are_events_not_stock_counts(tmp_path):
    # AdventureWorks' returns: a date, a territory, a product and a quantity, the only date of the file. A
    # stock count is a level (one per product per day); a product returned twice on one day is an event.
    rows = "".join(f"{1 + i % 20:02d}-01-2015,{1 + i % 9},{300 + i % 15},{1 + i % 7 // 6}\n" for i in range(200))
    path = tmp_path / "returns.csv"
    path.write_text("ReturnDate,TerritoryKey,ProductKey,ReturnQuantity\n" + rows)
    profile, doc, by_col = _propose(path)

    assert all(not p["canonical_table"] for p in doc["proposals"])
    assert "the rows are events, not stock counts (one per product per day)" in by_col["ReturnDate"][0]["reason"]
    assert [p.line() for p in _gate(profile, doc)] == [
        "the file: no column is mapped with confidence ≥ 0.7: 3 columns came closest to canonical_inventory "
        "without fitting it; which table these rows feed, if any, needs a person"
    ]

    # One row per product per day: those are stock counts.
    counts = tmp_path / "stock.csv"
    counts.write_text(
        "SnapshotDate,ProductKey,QuantityOnHand\n"
        + "".join(f"{1 + d:02d}-01-2015,{300 + p},{(p * 7 + d) % 40}\n" for d in range(10) for p in range(15))
    )
    _, _, by_col = _propose(counts)
    assert _targets(by_col, "ProductKey") == {"canonical_inventory.product_id"}


def test_a_fuzzy_header_match_is_a_typo_of_each_word_not_another_word(tmp_path):
    from mappings.proposer.scoring import score_columns

    columns = [{"name": "ProductStyle", "type": "category", "top": [{"value": "U", "count": 3}]},
               {"name": "Quantitiy", "type": "integer"}]  # fmt: skip
    scored = score_columns(columns)
    assert not any("resembles" in ev.reason for ev in scored["ProductStyle"].values())  # "style" is no "type"
    assert any("resembles 'quantity'" in ev.reason for ev in scored["Quantitiy"].values())


def test_items_numbered_within_their_order_are_lines_whatever_the_header_calls_the_number(tmp_path):
    # A bike store's order items: item_id is 1, 2, 3 … within each order ("item id" reads like a product's
    # id), product_id is the product. A key of invoice lines keyed by the invoice, and an integer TrackId,
    # read the same way in the music store's invoice items.
    rows = "".join(
        f"{o},{j + 1},{(o * 7 + j) % 40 + 1},{1 + j % 2},{200 + o % 50}.99,0.{5 + j % 3}\n"
        for o in range(1, 120)
        for j in range(1 + o % 4)
    )
    path = tmp_path / "order_items.csv"
    path.write_text("order_id,item_id,product_id,quantity,list_price,discount\n" + rows)
    _, _, by_col = _propose(path)
    assert _targets(by_col, "item_id") == set()
    assert "part of canonical_order_lines.external_id with 'order_id' (concat)" in by_col["item_id"][0]["reason"]
    assert _targets(by_col, "product_id") == {"canonical_order_lines.product_id"}

    n, lines = 0, []
    for invoice in range(1, 150):
        for j in range(1 + invoice % 5):
            n += 1
            lines.append(f"{n},{invoice},{(invoice * 13 + j * 7) % 600 + 1},0.99,1\n")
    items = tmp_path / "invoice_items.csv"
    items.write_text("InvoiceLineId,InvoiceId,TrackId,UnitPrice,Quantity\n" + "".join(lines))
    _, _, by_col = _propose(items)
    assert _targets(by_col, "InvoiceLineId") == {"canonical_order_lines.external_id"}
    assert _targets(by_col, "InvoiceId") == {"canonical_order_lines.order_id"}
    assert _targets(by_col, "TrackId") == {"canonical_order_lines.product_id"}
    assert _targets(by_col, "Quantity") == {"canonical_order_lines.quantity"}  # 1 on every line: still the lines'


def test_a_price_that_differs_within_a_few_invoices_is_the_lines_price_not_the_invoices(tmp_path):
    # The music store's invoice items: most invoices sell tracks at one price (0.99), a few mix 0.99 and
    # 1.99 ones. A unit price constant within most invoices is still each line's: it differs within some.
    n, lines = 0, []
    for invoice in range(1, 150):
        for j in range(1 + invoice % 5):
            n += 1
            price = "1.99" if invoice % 25 == 3 and j == 0 else "0.99"
            lines.append(f"{n},{invoice},{(invoice * 13 + j * 7) % 600 + 1},{price},1\n")
    items = tmp_path / "invoice_items.csv"
    items.write_text("InvoiceLineId,InvoiceId,TrackId,UnitPrice,Quantity\n" + "".join(lines))
    _, _, by_col = _propose(items)
    assert _targets(by_col, "InvoiceId") == {"canonical_order_lines.order_id"}
    assert "repeats over the lines of one sale" in by_col["InvoiceId"][0]["reason"]
    assert _targets(by_col, "TrackId") == {"canonical_order_lines.product_id"}
    assert _targets(by_col, "UnitPrice") == {"canonical_order_lines.unit_price"}


def test_titles_of_several_words_are_names_never_an_orders_number(tmp_path):
    # A music store's catalogue: a unique TrackId, the track's title ("Name", a word an order export also
    # uses for its number), album and genre ids, a unit price and no quantity: a price list of products.
    # A few titles repeat (covers), but words name things; no order is numbered "Walk On".
    titles = ["For Those About To Rock", "Balls to the Wall", "Fast As a Shark", "Walk On", "Restless and Wild"]
    rows = "".join(
        f"{i},{titles[(i if i % 8 else i - 1) % 5]} Part {i if i % 8 else i - 1},{1 + i // 10},1,{1 + i % 4},"
        f"{200000 + i * 37},{'1.99' if i % 9 == 0 else '0.99'}\n"
        for i in range(1, 120)
    )
    path = tmp_path / "tracks.csv"
    path.write_text("TrackId,Name,AlbumId,MediaTypeId,GenreId,Milliseconds,UnitPrice\n" + rows)
    _, _, by_col = _propose(path)
    assert _targets(by_col, "TrackId") == {"canonical_products.external_id"}
    assert _targets(by_col, "Name") == {"canonical_products.name"}
    assert _targets(by_col, "UnitPrice") == {"canonical_products.price"}
    assert _targets(by_col, "AlbumId") == set()


def test_a_billing_address_one_to_one_with_the_customer_is_an_address_not_the_customers_name(tmp_path):
    # The music store's invoices: each customer is billed at one address, so the address goes one-to-one
    # with CustomerId, as a name would; but nearly every value carries a house number: a street address.
    streets = ["Jasper Ave NW", "Rua Dr. Falcao Filho", "Ullevalsveien", "Gretrystraat", "8 Ave SW"]
    rows = "".join(
        f"{i},{c},1/{1 + i % 28}/09 0:00,{100 + c} {streets[c % 5]},City {c % 25},,Country {c % 4},{1000 + c},"
        f"{(c + i) % 9 + 0.99:.2f}\n"
        for i, c in ((i, 1 + (i * 7) % 40) for i in range(1, 300))
    )
    path = tmp_path / "invoices.csv"
    path.write_text(
        "InvoiceId,CustomerId,InvoiceDate,BillingAdress,BillingCity,BillingState,BillingCountry,BillingPostalCode,Total\n"
        + rows
    )
    _, _, by_col = _propose(path)
    assert _targets(by_col, "BillingAdress") == set()
    assert _targets(by_col, "CustomerId") == {"canonical_invoices.customer_id"}
    assert _targets(by_col, "Total") == {"canonical_invoices.amount"}


def test_a_company_blank_for_most_customers_does_not_name_them_first_and_last_name_do(tmp_path):
    # A store's customers: most are people (Company blank), a few buy for a company.
    rows = "".join(
        f"{i},Given{i},Family{i},{'Acme Corp ' + str(i) if i % 6 == 0 else ''},City {i % 7},c{i}@example.com\n"
        for i in range(1, 60)
    )
    path = tmp_path / "customers.csv"
    path.write_text("CustomerId,FirstName,LastName,Company,City,Email\n" + rows)
    _, _, by_col = _propose(path)
    assert _targets(by_col, "FirstName") == {"canonical_customers.name"}
    assert by_col["FirstName"][0]["transform"] == [{"op": "concat", "columns": ["LastName"], "separator": " "}]
    # "Company" fits a customer's name as well as an employee's: it describes the customers, refers to nobody.
    assert _targets(by_col, "Company") == set()


def test_a_repeating_id_with_nearly_as_many_values_as_orders_is_who_placed_them(tmp_path):
    # dbt's demo shop: orders with a user_id ("user" names no entity of the file). 60-odd users over 99
    # orders: who bought. The same file with a desk id of 4 values (who took the order?) is left to a person.
    statuses = ["placed", "shipped", "completed", "returned"]
    rows = "".join(
        f"{i},{(i * 37) % 64 + 1},{i % 4 + 1},2018-01-{1 + i % 28:02d},{statuses[i % 4]}\n" for i in range(1, 100)
    )
    path = tmp_path / "raw_orders.csv"
    path.write_text("id,user_id,desk_id,order_date,status\n" + rows)
    _, _, by_col = _propose(path)
    assert _targets(by_col, "id") == {"canonical_orders.external_id"}
    assert _targets(by_col, "user_id") == {"canonical_orders.customer_id"}
    assert "is who placed them" in by_col["user_id"][0]["reason"]
    assert _targets(by_col, "desk_id") == set()


def test_words_without_a_digit_unique_in_a_short_file_label_rows_they_never_number_them(tmp_path):
    # A money tracker's export: eight movements, each in another category. Unique over eight rows, but
    # "Bills" and "Salary" are labels: no row is numbered so, and nothing is proposed as the row's key.
    rows = [
        ("Cash", "Bills", "-55"),
        ("Cash", "Clothes", "-25"),
        ("Cash", "Salary", '"1,280.8"'),
        ("Payment card", "Car", "-180"),
        ("Payment card", "Savings", '"4,884"'),
        ("Payment card", "Gifts", "-33"),
        ("Cash", "Food", "-12.5"),
        ("Payment card", "Transport", "-7"),
    ]
    path = tmp_path / "monefy.csv"
    path.write_text(
        "date,account,category,amount,currency,description\n"
        + "".join(f"06/12/2021,{a},{c},{m},USD,note {i}\n" for i, (a, c, m) in enumerate(rows))
    )
    _, _, by_col = _propose(path)
    assert "canonical_expenses.external_id" not in _targets(by_col, "category")
    assert _targets(by_col, "amount") == {"canonical_expenses.amount"}


def test_whole_number_amounts_may_be_cents_and_the_review_says_so_without_guessing(tmp_path):
    # dbt's demo payments: amount 1000, 2000, 100 … in cents. $1,000 or $10.00: the values alone cannot
    # say, so the amount is proposed as it is and its reason tells the person how to read cents.
    methods = ["credit_card", "coupon", "bank_transfer", "gift_card"]
    rows = "".join(f"{i},{1 + (i * 7) % 90},{methods[i % 4]},{(i % 25) * 100}\n" for i in range(1, 114))
    path = tmp_path / "raw_payments.csv"
    path.write_text("id,order_id,payment_method,amount\n" + rows)
    _, _, by_col = _propose(path)
    amount = by_col["amount"][0]
    assert _targets(by_col, "amount") == {"canonical_payments.amount"}
    assert "if the export writes money in cents, add a divide by 100 step" in amount["reason"]
    assert not any(step["op"] == "divide" for step in amount["transform"] or [])
    assert _targets(by_col, "order_id") == {"canonical_payments.order_id"}


def test_a_code_without_digits_numbers_rows_an_address_does_not(tmp_path):
    # A pizza shop's sizes: "bbq_ckn_l" is one token, a code: the row's key. A client list with no id: its
    # street addresses are unique, but words with spaces name a place, they number no row.
    sizes = tmp_path / "pizza_sizes.csv"
    kinds = ["bbq_ckn", "cali_ckn", "five_cheese", "hawaiian", "veggie", "thai_ckn", "big_meat"]
    sizes.write_text(
        "pizza_size_id,pizza_type_id,size,price\n"
        + "".join(
            f"{k}_{s},{k},{s.upper()},{10 + i + j}.75\n" for i, k in enumerate(kinds) for j, s in enumerate("sml")
        )
    )
    _, _, by_col = _propose(sizes)
    assert _targets(by_col, "pizza_size_id") == {"canonical_products.external_id"}

    clients = tmp_path / "clients.csv"
    clients.write_text(
        "Client Name,Billing Street,Billing City,Billing Postal Code,Balance\n"
        + "".join(
            f"Client {chr(65 + i % 26)}{i},{100 + i} Main St,City {i % 4},9{i:04d},{i * 3}.50\n" for i in range(20)
        )
    )
    _, _, by_col = _propose(clients)
    assert _targets(by_col, "Billing Street") == set()
    # The rows are named (Client A0 …), not numbered: a postal code unique by chance is no key either.
    assert "canonical_customers.external_id" not in _targets(by_col, "Billing Postal Code")
