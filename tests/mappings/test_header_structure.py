"""How a header is built, read as a person reads it (issue 18, words12): the order of a row's dates decides only
between dates none of whose headers names the event, and a plan or another fact's date is no event; in an English
compound header the last noun is what the column is, the words before say whose, and the values back it (a key
unique on every row, one value on every row)."""

from __future__ import annotations

from tests.mappings.helpers import propose_by_column


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


def _day(i: int, shift: int = 0) -> str:
    return f"2016-{1 + i % 12:02d}-{10 + i % 15 + shift:02d}"


def test_an_invoice_date_the_header_names_outweighs_the_rate_date_before_it(tmp_path):
    # A billing system in two currencies: the rate is fixed the day before each invoice is dated.
    rows = "".join(
        f"inv{i:04d},A{i % 7:03d},{65 + i}.36,{_day(i, -1)},{_day(i)},{_day(i, 3)},INV{i:08d},Posted\n"
        for i in range(1, 31)
    )
    path = tmp_path / "invoices.csv"
    path.write_text("id,account_id,amount,rate_date,invoice_date,due_date,invoice_number,status\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "invoice_date") == {"canonical_invoices.invoice_date"}
    assert not _targets(by_col, "rate_date")


def test_a_payment_is_dated_by_its_effective_date_not_the_rate_of_exchange_fixed_before_it(tmp_path):
    # "provider_exchange_rate_date" beside "exchange_rate": the words before 'date' say whose date it is (the
    # rate's), so it is no step of the payment however early it comes; none of the headers says "payment".
    rows = "".join(
        f"pay{i:04d},A{i % 7:03d},{40 + i}.50,USD,1,{_day(i, -1)},{_day(i)},{_day(i)},Electronic\n"
        for i in range(1, 31)
    )
    path = tmp_path / "payments.csv"
    path.write_text(
        "id,account_id,amount,currency,exchange_rate,provider_exchange_rate_date,exchange_rate_date,"
        "effective_date,type\n" + rows
    )
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "effective_date") == {"canonical_payments.payment_date"}
    assert not _targets(by_col, "provider_exchange_rate_date")


def test_a_scheduled_delivery_date_is_no_order_date_however_early_it_comes(tmp_path):
    # A marketplace's orders with only the window their delivery is planned for: the file has no date the order
    # was placed on, and a plan that comes first is still a plan.
    rows = "".join(f"111-{i:07d},C{i % 9:03d},{10 + i}.99,Shipped,{_day(i)},{_day(i, 2)}\n" for i in range(1, 41))
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,order_total,order_status,"
        "scheduled_delivery_start_date,scheduled_delivery_end_date\n" + rows
    )
    _, _, by_col = propose_by_column(path)
    assert "canonical_orders.order_date" not in _targets(by_col, "scheduled_delivery_start_date")


def test_the_day_an_order_was_delivered_is_not_the_day_it_shipped(tmp_path):
    # A delivery date is when the buyer got the goods, days after they left: the schema has no column for it.
    rows = "".join(f"SO-{i:05d},C{i % 9:03d},{_day(i)},{_day(i, 1)},{_day(i, 4)},{10 + i}.99\n" for i in range(1, 41))
    path = tmp_path / "orders.csv"
    path.write_text("OrderNumber,CustomerID,OrderDate,ShipDate,DeliveryDate,Amount\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "ShipDate") == {"canonical_orders.shipped_date"}
    assert "canonical_orders.shipped_date" not in _targets(by_col, "DeliveryDate")


# A marketplace's order items: several items per order, each item its own id, the product by a shared catalogue
# code (ASIN) and the seller's own code for it.
TITLES = ("Mug", "Lamp", "Desk Fan", "Kettle", "Blender", "Toaster")
ITEMS = (
    "order_item_id,amazon_order_id,purchase_date,asin,seller_sku,title,quantity_ordered,item_price_amount\n"
    + "".join(
        f"{i:014d},111-{i // 2:07d},{_day(i // 2)},B0{i % 6:08d},SKU-{i % 6:03d},{TITLES[i % 6]},{1 + i % 3},"
        f"{(1 + i % 3) * (12 + i % 6)}.99\n"
        for i in range(1, 61)
    )
)


def _without(text: str, *columns: str) -> str:
    rows = [line.split(",") for line in text.splitlines()]
    keep = [i for i, name in enumerate(rows[0]) if name not in columns]
    return "".join(",".join(row[i] for i in keep) + "\n" for row in rows)


def test_a_seller_sku_is_the_product_the_seller_lists_so_its_title_is_the_products_name(tmp_path):
    # 'seller sku': the last noun says what it is (a product's code), 'seller' only says whose code; read so, the
    # code keys the products each line sold and the title constant within it is their name, not a sales rep's.
    path = tmp_path / "order_items.csv"
    path.write_text(_without(ITEMS, "order_item_id", "asin"))
    _, _, by_col = propose_by_column(path)
    assert "canonical_orders.sales_rep_id" not in _targets(by_col, "seller_sku")
    assert "canonical_products.external_id" in _targets(by_col, "seller_sku")
    assert _targets(by_col, "title") == {"canonical_products.name"}


def test_an_order_item_id_unique_on_every_row_is_the_lines_own_key_not_a_product(tmp_path):
    # An order's item is its line: the id of an order item, different on every row, keys the line.
    path = tmp_path / "order_items.csv"
    path.write_text(ITEMS)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "order_item_id") == {"canonical_order_lines.external_id"}


def test_an_item_type_with_one_value_on_every_row_is_no_confident_category(tmp_path):
    # An accounting app's item import: every item is of type 'Inventory'; one value splits no rows.
    rows = "".join(f"Inventory,Item {i},{1000 + i},{10 + i % 7}.00,{5 + i % 4}.00\n" for i in range(60))
    path = tmp_path / "items.csv"
    path.write_text("Item Type,Item Name,Item Code,Sell Price,Cost Price\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert all(p["confidence"] < 0.7 for p in by_col["Item Type"] if p["canonical_col"] == "category")
