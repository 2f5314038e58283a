"""Supplier bills and payments (issue 18, payables18): a document names its other party. When the only party
is a supplier, repeating over rows that each carry an amount (a vendor's bills, not a vendor list), the rows are
money owed or paid out: expenses, whatever the document's headers call them ("invoice_id", "Invoice_Date")."""

from __future__ import annotations

import pytest

from tests.mappings.helpers import propose_by_column

VENDORS = ["Acme Paper", "Northwind Freight", "Globex Office", "Acme Paper", "Initech Print"]


def _bills(party: str = "vendor") -> str:
    rows = []
    for i in range(12):
        issued, due = f"2024-{i % 12 + 1:02d}-05", f"2024-{i % 12 + 1:02d}-28"
        status = "Paid" if i % 3 else "Open"
        rows.append(f"{9000 + i},{VENDORS[i % 5]},{issued},{due},EUR,{1200 + i * 37.15:.2f},{status}")
    return f"invoice_id,{party},issue_date,due_date,currency,amount,status\n" + "\n".join(rows) + "\n"


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


@pytest.mark.django_db
def test_bills_from_a_repeating_supplier_are_spending_not_sales_invoices(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(_bills())
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "invoice_id") == {"canonical_expenses.external_id"}
    assert _targets(by_col, "issue_date") == {"canonical_expenses.expense_date"}
    assert _targets(by_col, "amount") == {"canonical_expenses.amount"}
    assert _targets(by_col, "currency") == {"canonical_expenses.currency"}
    assert _targets(by_col, "vendor") == {"canonical_expenses.vendor"}
    # A bill's due date and status have no expense column: nothing of the file goes to sales invoices.
    assert not any(t.startswith("canonical_invoices") for c in by_col for t in _targets(by_col, c))


@pytest.mark.django_db
def test_the_same_documents_to_a_customer_stay_sales_invoices(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(_bills(party="customer"))
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "invoice_id") == {"canonical_invoices.external_id"}
    assert _targets(by_col, "amount") == {"canonical_invoices.amount"}


@pytest.mark.django_db
def test_a_vendor_list_with_balances_is_no_spending(tmp_path):
    # One row per vendor (the name never repeats): the vendors themselves, not documents from them.
    path = tmp_path / "export.csv"
    rows = "".join(f"Vendor {i} Ltd,{100 + i * 13.5:.2f},2024-0{i % 9 + 1}-01\n" for i in range(10))
    path.write_text("vendor name,balance,since\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert not any(t.startswith("canonical_expenses") for c in by_col for t in _targets(by_col, c))


@pytest.mark.django_db
def test_payments_to_vendors_known_by_id_are_spending_dated_by_the_invoice(tmp_path):
    # A payment register: the vendor only as an id, the invoice date before its payment date on every row.
    path = tmp_path / "register.csv"
    rows = "".join(
        f"INV{1000 + i},VEND{i % 4 + 1},2025-01-{i + 1:02d},2025-02-{i + 3:02d},{5000 + i * 311},UPI,"
        f"{['IT', 'HR', 'Finance'][i % 3]}\n"
        for i in range(15)
    )
    path.write_text("Invoice_ID,Vendor_ID,Invoice_Date,Payment_Date,Amount,Payment_Method,Department\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Invoice_ID") == {"canonical_expenses.external_id"}
    assert _targets(by_col, "Vendor_ID") == {"canonical_expenses.vendor"}
    assert _targets(by_col, "Invoice_Date") == {"canonical_expenses.expense_date"}
    assert _targets(by_col, "Amount") == {"canonical_expenses.amount"}
    assert _targets(by_col, "Department") == {"canonical_expenses.department"}
    assert _targets(by_col, "Payment_Date") == set()


@pytest.mark.django_db
def test_the_lines_of_a_sale_name_their_seller_and_stay_sale_lines(tmp_path):
    # A marketplace's order items: the seller repeats beside a price, but each row is a product sold.
    path = tmp_path / "items.csv"
    rows = "".join(
        f"ord{i // 2:03d},{i % 2 + 1},prod{i % 7:02d},seller{i % 3},2017-09-{i % 28 + 1:02d} 09:45:35,"
        f"{20 + i * 3.9:.2f},{5 + i % 4 * 1.25:.2f}\n"
        for i in range(30)
    )
    path.write_text("order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert not any(t.startswith("canonical_expenses") for c in by_col for t in _targets(by_col, c))


@pytest.mark.django_db
def test_sales_naming_the_product_s_supplier_are_no_spending(tmp_path):
    # The supplier beside a product is the product's: the rows are what the business sold.
    path = tmp_path / "sales.csv"
    products = ["Chai", "Chang", "Aniseed Syrup", "Tofu", "Konbu"]
    rows = "".join(
        f"{10248 + i},2024-03-{i % 28 + 1:02d},{products[i % 5]},{VENDORS[i % 5]},{14 + i * 2.35:.2f}\n"
        for i in range(20)
    )
    path.write_text("Order ID,Order Date,Product Name,Supplier,Amount\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert not any(t.startswith("canonical_expenses") for c in by_col for t in _targets(by_col, c))
