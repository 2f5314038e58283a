"""Values outweigh words (issue 18, item 4): a file's name is a hint that breaks ties between readings the values
leave open, never one that overturns what the rows' own arithmetic says. `bench/name_ablation.py` measures it on
the real corpus's dev files."""

from __future__ import annotations

from tests.mappings.helpers import propose_by_column

CATEGORIES = ("Beauty", "Clothing", "Electronics")
PRICES = (25, 30, 50, 300, 500)

# A shop's sales export as Kaggle's "Retail Sales Dataset" writes it: one sale of one category per row, the
# total the quantity times the price on every row.
SALES = "Transaction ID,Date,Customer ID,Gender,Age,Product Category,Quantity,Price per Unit,Total Amount\n" + "".join(
    f"{i},2023-{1 + i % 12:02d}-{1 + i % 28:02d},CUST{i:03d},{'Male' if i % 2 else 'Female'},{18 + i % 40},"
    f"{CATEGORIES[i % 3]},{1 + i % 4},{PRICES[i % 5]},{(1 + i % 4) * PRICES[i % 5]}\n"
    for i in range(1, 61)
)


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


def _tables(doc) -> set[str]:
    return {p["canonical_table"] for p in doc["proposals"] if p["canonical_table"]}


def test_a_file_named_transactions_whose_rows_are_quantity_times_price_is_a_sale_not_payments(tmp_path):
    path = tmp_path / "retail_sales_transactions.csv"
    path.write_text(SALES)
    _, doc, by_col = propose_by_column(path)

    assert "canonical_payments" not in _tables(doc)
    assert _targets(by_col, "Quantity") == {"canonical_order_lines.quantity"}
    assert _targets(by_col, "Price per Unit") == {"canonical_order_lines.unit_price"}
    assert _targets(by_col, "Date") == {"canonical_orders.order_date"}
    assert _targets(by_col, "Total Amount") & {"canonical_orders.amount", "canonical_order_lines.amount"}


def test_a_file_named_payments_reads_the_same_sale_as_a_file_named_for_nothing(tmp_path):
    readings = {}
    for name in ("upload.csv", "payments.csv"):
        path = tmp_path / name
        path.write_text(SALES)
        _, _, by_col = propose_by_column(path)
        readings[name] = {column: _targets(by_col, column) for column in by_col}
    assert readings["payments.csv"] == readings["upload.csv"]


def test_priced_items_in_a_file_named_expenses_stay_a_purchase_the_name_may_decide(tmp_path):
    # Bought items are quantity × unit cost = total too: the values leave sale and purchase open, so the name decides.
    rows = "".join(
        f"2023-04-{1 + i % 28:02d},Office Depot,Paper {i % 5},{1 + i % 4},{PRICES[i % 5]}.00,"
        f"{(1 + i % 4) * PRICES[i % 5]}.00\n"
        for i in range(1, 41)
    )
    path = tmp_path / "expenses.csv"
    path.write_text("Date,Vendor,Item,Quantity,Unit Cost,Total\n" + rows)
    _, doc, by_col = propose_by_column(path)
    assert "canonical_order_lines" not in _tables(doc)
    assert _targets(by_col, "Total") == {"canonical_expenses.amount"}


def test_the_name_still_decides_between_payments_and_orders_when_no_row_is_priced_items(tmp_path):
    # Only an id, a date, a customer and an amount: a payment and an order fit alike, so the name breaks the tie.
    rows = "".join(f"{i},2023-03-{1 + i % 28:02d},{100 + i % 7},{10 + i}.50\n" for i in range(1, 41))
    path = tmp_path / "payments.csv"
    path.write_text("id,date,customer_id,amount\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "amount") == {"canonical_payments.amount"}


def test_a_price_list_named_customers_is_products_a_customer_has_no_price(tmp_path):
    # A pizza shop's sizes and their prices (with cents on every row), as its database exports them: codes and
    # numbers, no word but the file's name says what the rows are.
    sizes = ("s", "m", "l", "xl")
    pizzas = ("hawaiian", "classic_dlx", "five_cheese", "veggie", "pepperoni", "bbq_ckn")
    rows = "".join(
        f"{pizza}_{size},{i + 1},{j + 1},{9 + 2 * j + i % 3}.{25 + 25 * (i % 3)}\n"
        for i, pizza in enumerate(pizzas)
        for j, size in enumerate(sizes)
    )
    path = tmp_path / "customers.csv"
    path.write_text("pizza_size_id,pizza_id,size_id,unit_price\n" + rows)
    _, doc, by_col = propose_by_column(path)
    assert "canonical_customers" not in _tables(doc)
    assert _targets(by_col, "unit_price") == {"canonical_products.price"}


def test_a_customer_list_with_a_birth_date_and_an_income_keeps_the_name_customers(tmp_path):
    # Its date and money columns fit orders as well, but its names and e-mails have no home in an order.
    rows = "".join(
        f"{11000 + i},Name{i},Surname{i},19{60 + i % 30}-0{1 + i % 9}-1{i % 9},"
        f"name{i}@example.com,{30000 + 1000 * (i % 9)}.00\n"
        for i in range(40)
    )
    path = tmp_path / "customers.csv"
    path.write_text("CustomerKey,FirstName,LastName,BirthDate,EmailAddress,AnnualIncome\n" + rows)
    _, doc, by_col = propose_by_column(path)
    assert _targets(by_col, "EmailAddress") == {"canonical_customers.email"}
    assert "canonical_orders" not in _tables(doc)
