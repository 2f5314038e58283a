"""What one row is (issue 18, kind12): the file's table decided by the whole file's values, not its words.

- A column with one value on every row is the file's owner (the store's own name on each of its orders), never
  the party each row deals with: it does not make a shop's orders its spending.
- Each product once, with several counts of its units, no price and no order: a stock snapshot, not sale lines.
- A second table needs a grain of its own in the file: a payment's amount on an invoice's row, with no payment
  key, is the invoice's amount paid.
"""

from __future__ import annotations

import pytest

from tests.mappings.helpers import propose_by_column

STATUSES = ("Shipped", "Pending", "Canceled", "Unshipped")


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


def _tables(doc) -> set[str]:
    return {p["canonical_table"] for p in doc["proposals"] if p["canonical_table"]}


def _store_orders(seller) -> str:
    # A marketplace's order export for one store, as Amazon's Selling Partner API flattens it.
    rows = "".join(
        f"ORDER{i:05d},2025-01-{1 + i % 28:02d} 18:11:28,{STATUSES[i % 4]},"
        f"{100 + i * 13.27:.2f},USD,{seller(i)},Expedited\n"
        for i in range(40)
    )
    header = "amazon_order_id,purchase_date,order_status,order_total_amount,currency_code,"
    return header + "seller_display_name,ship_service_level\n" + rows


def _proposed(tmp_path, name: str, text: str):
    """(profile, proposal document, proposals by column) of `text` written as the upload `name`."""
    path = tmp_path / name
    path.write_text(text)
    return propose_by_column(path)


@pytest.mark.django_db
def test_a_seller_named_on_every_row_is_the_store_itself_so_its_orders_are_sales_not_spending(tmp_path):
    _, doc, by_col = _proposed(tmp_path, "marketplace_orders.csv", _store_orders(lambda i: "Logan Roy"))
    assert "canonical_expenses" not in _tables(doc)
    assert _targets(by_col, "amazon_order_id") == {"canonical_orders.external_id"}
    assert _targets(by_col, "order_total_amount") == {"canonical_orders.amount"}
    assert _targets(by_col, "purchase_date") == {"canonical_orders.order_date"}


def _stock(header_extra: str = "", row_extra=lambda i: "") -> str:
    # A fulfilment centre's inventory summary: one row per product, its units in several states.
    rows = "".join(
        f"FT-{i:05d},SKU-{1000 + i * 7},Widget {i % 5},{i % 6},{i % 4},{40 + i * 3},{(i * 7) % 9},"
        f"{42 + i * 3 + (i * 7) % 9 + i % 6},2025-01-{1 + i % 20:02d} 19:36:52{row_extra(i)}\n"
        for i in range(40)
    )
    header = "_fivetran_id,seller_sku,product_name,defective_quantity,pending_customer_order_quantity,"
    header += f"fulfillable_quantity,total_reserved_quantity,total_quantity,last_updated_time{header_extra}\n"
    return header + rows


@pytest.mark.django_db
def test_each_product_once_with_counts_of_its_units_and_no_price_is_a_stock_snapshot_not_sales(tmp_path):
    _, doc, by_col = _proposed(tmp_path, "fba_summary.csv", _stock())
    assert "canonical_order_lines" not in _tables(doc)
    assert _targets(by_col, "seller_sku") == {"canonical_inventory.product_id"}
    # The largest count is the units on hand; the others are parts of it.
    assert _targets(by_col, "total_quantity") == {"canonical_inventory.quantity_on_hand"}
    assert _targets(by_col, "last_updated_time") == {"canonical_inventory.snapshot_date"}
    assert not _targets(by_col, "pending_customer_order_quantity")


@pytest.mark.django_db
def test_the_same_counts_with_a_price_of_each_unit_are_not_read_as_a_stock_snapshot(tmp_path):
    # What a unit sold for makes the quantities a sale's: the snapshot reading stays out of it.
    _, doc, _ = _proposed(tmp_path, "fba_summary.csv", _stock(",unit_price", lambda i: f",{9 + i % 7}.99"))
    assert "canonical_inventory" not in _tables(doc)


def _invoices(payment_key: bool = False) -> str:
    # A billing system's invoice table (Zuora's, as Fivetran syncs it): the invoice's own number, its customer
    # account, its amount and what has been paid of it.
    rows = []
    for i in range(12):
        amount = 70 + i * 11.5
        paid = amount if i % 3 else 0
        key = f",P-{500 + i}" if payment_key else ""
        rows.append(
            f"a{i:031x},acct{i % 4:028x},2024-{1 + i % 12:02d}-15,2024-{1 + i % 12:02d}-28,INV{30 + i:08d},"
            f"{amount:.2f},{paid:.2f},{amount - paid:.2f},USD,{'Posted' if i % 5 else 'Draft'}{key}"
        )
    header = "id,account_id,invoice_date,due_date,invoice_number,amount,payment_amount,balance,transaction_currency,"
    header += "status" + (",payment_id" if payment_key else "")
    return header + "\n" + "\n".join(rows) + "\n"


@pytest.mark.django_db
def test_a_payment_amount_on_an_invoice_row_without_a_payment_key_is_the_invoice_amount_paid(tmp_path):
    _, doc, by_col = _proposed(tmp_path, "invoices.csv", _invoices())
    assert "canonical_payments" not in _tables(doc)
    assert _targets(by_col, "payment_amount") == {"canonical_invoices.amount_paid"}
    assert _targets(by_col, "transaction_currency") == {"canonical_invoices.currency"}
    assert "canonical_payments.invoice_id" not in _targets(by_col, "invoice_number")


def _car_sales(makes: int) -> str:
    """A dealer's sales, one car a row: 120 buyers by name and `makes` values of 'Company'."""
    first = ("Ana", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ida", "Jon", "Kai", "Lea")
    rows = "".join(
        f"C_{i:06d},1/{1 + i % 28}/2022,{first[i % 12]} {chr(65 + i // 12 % 10)}.,{('Male', 'Female')[i % 2]},"
        f"{13500 + i % 120 * 1000},Make {i % makes},{14000 + i * 250}\n"
        for i in range(240)
    )
    return "Car_id,Date,Customer Name,Gender,Annual Income,Company,Price\n" + rows


def test_a_company_with_fewer_values_than_the_customers_names_is_no_customer_key(tmp_path):
    # 6 makes beside 120 buyers' names: a key decides its entity's name, so 'Company' keys no customer.
    _, _, by_col = _proposed(tmp_path, "car_sales.csv", _car_sales(makes=6))
    assert _targets(by_col, "Customer Name") & {"canonical_customers.name", "canonical_orders.customer_id"}
    assert not {"canonical_orders.customer_id", "canonical_customers.external_id"} & _targets(by_col, "Company")
    assert "no key of canonical_customers" in by_col["Company"][0]["reason"]


def test_a_company_with_a_value_for_each_customer_name_stays_the_customer(tmp_path):
    # One company per buyer (120 values for 120 names): the header's reading stands.
    _, _, by_col = _proposed(tmp_path, "car_sales.csv", _car_sales(makes=120))
    assert "canonical_orders.customer_id" in _targets(by_col, "Company")
