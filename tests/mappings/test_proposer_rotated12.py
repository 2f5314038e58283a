"""The fourth curator's 12 files, once held out (issue 18): a CRM's dates written with a time in any pairing, a
pandas index beside a composite line key, a line's only price constant per product, a name in one half of a pair.
Small copies of the shapes, each a rule read from the values and the whole file, not from a header word."""

from __future__ import annotations

from mappings.profiling.profile import profile_file
from mappings.proposer.scoring import _header_evidence
from tests.mappings.helpers import propose_by_column


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


def _column(profile, name) -> dict:
    return next(c for c in profile["columns"] if c["name"] == name)


def test_any_way_of_writing_a_day_reads_with_any_time_of_day_after_it(tmp_path):
    # A CRM re-saved by a spreadsheet writes "25-05-2021 04:15" (day-first dashes, minutes, no seconds) and
    # "01 Apr, 2020 03:36:21": each day format and each time format was known, not that pairing.
    path = tmp_path / "crm.csv"
    path.write_text(
        "id,created,modified\n"
        + "".join(
            f'{i},{10 + i}-0{1 + i % 9}-2021 0{i % 10}:15,"0{1 + i % 9} Apr, 2020 03:36:2{i % 10}"\n' for i in range(12)
        )
    )
    profile = profile_file(path=path, dialect={"delimiter": ","})
    created, modified = _column(profile, "created"), _column(profile, "modified")
    assert (created["type"], created["format"]) == ("datetime", "%d-%m-%Y %H:%M")
    assert (modified["type"], modified["format"]) == ("datetime", "%d %b, %Y %H:%M:%S")


# A CRM's invoices: "Created Time" says little in words, but it comes before "Modified Time" on every row.
CRM_INVOICES = "INVOICEID,Invoice Status,Created Time,Modified Time,Grand Total\n" + "".join(
    f'{23000000 + i},{status},"0{1 + i % 9} Apr, 2020 03:36:21",'
    f'"0{1 + i % 9} May, 2020 06:13:49","${1000 + 37 * i:,}.50"\n'
    for i, status in enumerate(["Created", "Approved", "Delivered", "Cancelled"] * 3)
)


def test_the_one_date_named_for_the_table_that_comes_before_every_other_date_is_its_event_date(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(CRM_INVOICES)
    _, _, by_col = propose_by_column(path)
    (proposal,) = by_col["Created Time"]
    assert f"{proposal['canonical_table']}.{proposal['canonical_col']}" == "canonical_invoices.invoice_date"
    assert proposal["confidence"] >= 0.8
    assert "before 'Modified Time' on every row" in proposal["reason"]


# Order items re-saved by pandas: a leading "index" (0, 1, 2 … the rows' positions) is unique by construction; what
# makes a line unique is order_id + item_id (1, 2, 3 … in each order); the list price is constant per product.
ITEMS = [(order, item, 1 + (order * 7 + item * 3) % 40) for order in range(1, 61) for item in range(1, 2 + order % 3)]
ORDER_ITEMS = "index,order_id,item_id,product_id,quantity,list_price,discount\n" + "".join(
    f"{n},{order},{item},{product},{1 + n % 2},{product * 3 - 0.01:.2f},0.{5 + n % 3}\n"
    for n, (order, item, product) in enumerate(ITEMS)
)


def test_a_column_holding_each_rows_position_is_no_key_the_composite_line_key_is(tmp_path):
    path = tmp_path / "order_items.csv"
    path.write_text(ORDER_ITEMS)
    profile, _, by_col = propose_by_column(path)
    assert profile["grain"]["row_key"] == ["order_id", "item_id"]
    # item_id numbers the lines (part of their key), it is no product: product_id is.
    assert "canonical_order_lines.product_id" not in _targets(by_col, "item_id")
    assert "canonical_order_lines.product_id" in _targets(by_col, "product_id")


def test_the_only_price_of_lines_without_a_total_is_the_lines_even_when_constant_per_product(tmp_path):
    # "list price" is a product's word, and the grain says list_price is constant per product: but without it the
    # lines have no price at all, so it is theirs.
    path = tmp_path / "order_items.csv"
    path.write_text(ORDER_ITEMS)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "list_price") == {"canonical_order_lines.unit_price"}
    # ... and with the values checked as money, the structure is the second kind of evidence: loaded unseen.
    assert by_col["list_price"][0]["confidence"] >= 0.7


def test_a_first_name_empty_on_every_row_leaves_the_whole_name_to_the_last_name(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(
        "USER_ID,First Name,Last Name,Email\n"
        + "".join(
            f"{1001 + 2 * i},,{name},{name.split()[0].lower()}@finepick.com\n"
            for i, name in enumerate(["Augustine Paul", "Harold Pawlan", "Lazar Mathew", "Roger Terrence"])
        )
    )
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Last Name") == {"canonical_employees.name"}
    assert _targets(by_col, "First Name") == set()


def test_an_entity_word_and_a_key_word_in_any_language_name_that_entitys_key(tmp_path):
    # "kunden id": the customer's key, so the orders' reference to their customer; before, "id" alone made it the
    # key of a payment, an invoice or an expense (0.76), and an orders file left it unmapped.
    evidence = {t.key: e.score for t, e in _header_evidence("kunden id").items()}
    assert evidence["canonical_customers.external_id"] == max(evidence.values())
    path = tmp_path / "bestellungen.csv"
    path.write_text(
        "BestellID;KundenID;Bestelldatum\n"
        + "".join(f"{1 + i};{1 + i * 7 % 30};{1 + i % 28:02d}.0{1 + i % 9}.2022\n" for i in range(100))
    )
    _, _, by_col = propose_by_column(path)
    assert "canonical_orders.customer_id" in _targets(by_col, "KundenID")


# Orders of a chain of shops, whose staff (ids 1-10) were loaded before: a status coded 1-4 falls among those ids.
SHOP_ORDERS = "order_id,customer_id,order_status,order_date,staff_id\n" + "".join(
    f"{1 + i},{100 + i * 3 % 40},{1 + i % 4},2017-0{1 + i % 9}-1{i % 10},{2 + i % 6}\n" for i in range(60)
)


def test_of_two_columns_whose_values_are_loaded_staff_ids_the_one_the_header_names_is_the_reference(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(SHOP_ORDERS)
    known = {"order_status": {"canonical_employees": (4, 4)}, "staff_id": {"canonical_employees": (6, 6)}}
    _, _, by_col = propose_by_column(path, known_keys=known)
    assert _targets(by_col, "staff_id") == {"canonical_orders.sales_rep_id"}
    assert "canonical_orders.sales_rep_id" not in _targets(by_col, "order_status")


# A CRM's invoices: the account (a company) and the contact (a person) are both a customer by their header words.
CRM_ACCOUNTS = "INVOICEID,Invoice Status,Created Time,Account Id,Contact Id,Grand Total,Age In Days\n" + "".join(
    f"{23000000 + i},{('Created', 'Approved', 'Delivered')[i % 3]},2020-04-{1 + i % 28:02d} 03:36:21,"
    f'{1000 + i * 7 % 50},{2000 + i * 11 % 45},"${1000 + 37 * i:,}.50",{40 + i * 13 % 60}\n'
    for i in range(80)
)


def test_the_rows_refer_to_their_customer_by_the_column_that_keys_the_customers(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text(CRM_ACCOUNTS)
    _, _, by_col = propose_by_column(path)
    assert "canonical_invoices.customer_id" in _targets(by_col, "Account Id")
    assert "canonical_invoices.customer_id" not in _targets(by_col, "Contact Id")


def test_plain_whole_numbers_under_a_header_naming_nothing_are_no_buyer(tmp_path):
    # "Age In Days" repeats with many values, as a buyer's id would; plain numbers count days, they name nobody.
    path = tmp_path / "sales_orders.csv"
    lines = [line.split(",") for line in CRM_ACCOUNTS.splitlines()]
    path.write_text("".join(",".join(cells[:3] + cells[5:]) + "\n" for cells in lines))
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Age In Days") == set()


def _shop_export() -> str:
    """A web shop's orders export: the order's fields on its first line only, blank on its other lines."""
    products = [("Ski Wax", 24.95), ("Snowboard", 699.95), ("Gift Card", 10.0), ("Boots", 129.5), ("Gloves", 35.0)]
    rows = ["Name,Created at,Subtotal,Total,Lineitem quantity,Lineitem name,Lineitem price,Receipt Number"]
    for n in range(12):
        lines = [products[(n + k) % 5] for k in range(1 + n % 3)]
        subtotal = sum(price for _, price in lines)
        for k, (product, price) in enumerate(lines):
            order = f"{subtotal:.2f},{subtotal + 5:.2f}" if k == 0 else ","
            rows.append(f"#{1001 + n},2025-05-{10 + n} 09:55:16 -0400,{order},1,{product},{price:.2f},")
    return "\n".join(rows) + "\n"


def test_a_sum_printed_once_per_order_over_lines_that_differ_is_no_line_amount(tmp_path):
    path = tmp_path / "orders_export.csv"
    path.write_text(_shop_export())
    _, _, by_col = propose_by_column(path)
    assert not {t for t in _targets(by_col, "Subtotal") if t.startswith("canonical_order_lines.")}
    assert _targets(by_col, "Lineitem price") == {"canonical_order_lines.unit_price"}


def test_an_empty_column_yields_the_lines_order_to_the_column_that_keys_the_orders(tmp_path):
    path = tmp_path / "orders_export.csv"
    path.write_text(_shop_export())
    _, _, by_col = propose_by_column(path)
    assert "canonical_order_lines.order_id" in _targets(by_col, "Name")
    assert _targets(by_col, "Receipt Number") == set()
