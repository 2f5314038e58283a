"""Confidence as a person would give it: no single kind of evidence makes a column confident on its own.

A header word, or a structural reading of the grain, that the values do not back stays just below the
auto-accept threshold (a person confirms it); values that cannot be the target pull it far below, whatever
the header says; values that decide alone (the only date column of a file) need no header word."""

from __future__ import annotations

import pytest

from mappings.proposer.calibration import (
    AGREE,
    CONTRADICT,
    CONTRADICTED,
    NEUTRAL,
    ONE_KIND,
    Signals,
    calibrated,
)
from mappings.proposer.gate import auto_gate
from tests.mappings.helpers import propose_by_column

AUTO = 0.7  # settings.MAPPING_AUTO_CONFIDENCE


_propose = propose_by_column


def _to(by_col, column, table, col) -> dict | None:
    return next(
        (p for p in by_col.get(column, []) if p["canonical_table"] == table and p["canonical_col"] == col), None
    )


def test_a_header_word_alone_is_not_enough_to_auto_accept():
    alone = Signals(header=0.95, values=NEUTRAL)
    confidence, why = calibrated(0.93, alone)
    assert confidence == ONE_KIND < AUTO
    assert "only the header speaks for it" in why
    # With values that fit, the same header is confident as it was.
    assert calibrated(0.93, Signals(header=0.95, values=AGREE)) == (0.93, "")


def test_a_structural_reading_alone_is_not_enough_either():
    confidence, why = calibrated(0.8, Signals(header=0.0, values=NEUTRAL))
    assert confidence == ONE_KIND and "the file's structure alone" in why
    confidence, why = calibrated(0.8, Signals(header=0.0, values=AGREE, why="values are identifiers"))
    assert confidence == ONE_KIND and "only the values speak for it (values are identifiers)" in why


def test_values_that_decide_alone_need_no_header_word():
    decisive = Signals(header=0.0, values=AGREE, why="every value reads as a date", decisive=True)
    assert calibrated(0.85, decisive) == (0.85, "")


def test_values_that_contradict_the_target_pull_it_far_below_the_threshold():
    confidence, why = calibrated(0.97, Signals(header=0.96, values=CONTRADICT, why="its values are not dates (text)"))
    assert confidence == CONTRADICTED < AUTO - 0.2
    assert "its values are not dates (text): the values contradict it" in why


def test_a_category_whose_every_value_differs_is_a_header_word_alone(tmp_path):
    """'Category' names products' category, but 40 products in 40 different "categories", sentences each:
    nothing in the values shows a grouping, so the review page asks and --auto does not load it unseen."""
    path = tmp_path / "products.csv"
    rows = "".join(f"SKU-{i:03d},Widget {i},Handmade item number {i} in oak and steel,{5 + i}.50\n" for i in range(40))
    path.write_text("SKU,Product Name,Category,Price\n" + rows)
    _, _, by_col = _propose(path)

    category = _to(by_col, "Category", "canonical_products", "category")
    assert category is not None and category["confidence"] < AUTO
    assert "only the header speaks for it" in category["reason"]
    # The name and the price have values that fit: they stay confident.
    assert _to(by_col, "Product Name", "canonical_products", "name")["confidence"] >= AUTO
    assert _to(by_col, "Price", "canonical_products", "price")["confidence"] >= AUTO


def test_values_that_do_not_parse_as_dates_pull_a_learned_date_column_below_the_threshold(tmp_path):
    """A mapping saved for this layout said 'Order Date' is the order's date; in this file it holds words
    ("pending", "Q3"): the person's earlier word does not outweigh the values."""
    path = tmp_path / "orders.csv"
    rows = "".join(f"SO-{i:04d},{['pending', 'Q3', 'asap'][i % 3]},{20 + i}.00\n" for i in range(30))
    path.write_text("Order Number,Order Date,Total\n" + rows)
    learned = {"Order Date": {"canonical_table": "canonical_orders", "canonical_col": "order_date", "transform": None}}
    profile, doc, by_col = _propose(path, learned=learned)

    date = _to(by_col, "Order Date", "canonical_orders", "order_date")
    assert date is not None and date["confidence"] <= CONTRADICTED
    assert "its values are not dates" in date["reason"]
    accepted = [p for p in doc["proposals"] if p["canonical_table"] and p["confidence"] >= AUTO]
    problems = [
        n.line() for n in auto_gate(proposals=doc["proposals"], accepted=accepted, profile=profile, threshold=AUTO)
    ]
    assert any("canonical_orders.order_date" in line for line in problems), problems


def test_a_date_named_column_of_words_is_never_confident(tmp_path):
    path = tmp_path / "orders.csv"
    rows = "".join(f"SO-{i:04d},{['pending', 'Q3', 'asap'][i % 3]},{20 + i}.00\n" for i in range(30))
    path.write_text("Order Number,Order Date,Total\n" + rows)
    _, _, by_col = _propose(path)

    assert all(p["confidence"] < AUTO for p in by_col["Order Date"] if p["canonical_table"])


def test_the_date_before_every_other_date_is_the_orders_date_without_a_header_word(tmp_path):
    """A marketplace's orders: 'order_purchase_timestamp' names no order date, but every value reads as a date
    and on every row it comes before the approval and the delivery: the values alone say it is when the order
    was placed."""
    path = tmp_path / "orders.csv"
    rows = "".join(
        f"o{i:04d},c{i % 17:03d},delivered,2018-01-{1 + i % 20:02d} 10:00:00,2018-01-{1 + i % 20:02d} 11:30:00,"
        f"2018-02-{1 + i % 20:02d} 09:00:00\n"
        for i in range(40)
    )
    path.write_text(
        "order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,order_delivered_customer_date\n"
        + rows
    )
    _, _, by_col = _propose(path)

    placed = _to(by_col, "order_purchase_timestamp", "canonical_orders", "order_date")
    assert placed is not None and placed["confidence"] >= AUTO, by_col["order_purchase_timestamp"]
    assert "a person confirms" not in placed["reason"]


@pytest.mark.parametrize("header", ["Invoice No", "Order Number"])
def test_a_number_with_a_handful_of_values_over_many_rows_is_no_key(tmp_path, header):
    """A week number (five values over 100 rows) under a key's header groups rows; it numbers none."""
    path = tmp_path / "sales.csv"
    rows = "".join(f"{1 + i % 5},2024-01-{1 + i % 28:02d},Client {i % 40},{10 + i}.25\n" for i in range(100))
    path.write_text(f"{header},Date,Customer,Amount\n" + rows)
    _, _, by_col = _propose(path)

    keys = [p for p in by_col[header] if p["canonical_col"] == "external_id"]
    assert all(p["confidence"] < AUTO for p in keys), keys


def _numbered_items(path, extra_header: str = "", extra=lambda i, item: "") -> None:
    rows = []
    for i in range(25):
        for item in range(1, 2 + i % 3):
            rows.append(f"ord{i:04d},{item},prod{(i + item) % 7},2017-09-{1 + i % 28:02d} 09:45:35,{10 + i}.90")
            rows[-1] += extra(i, item) + "\n"
    path.write_text(f"order_id,order_item_id,product_id,shipping_limit_date,price{extra_header}\n" + "".join(rows))


def test_one_item_per_numbered_row_is_confident_when_no_column_could_count_them(tmp_path):
    """A marketplace's order items: no quantity column, items numbered 1, 2, 3 within each order. The
    structure says each row is one item, and the whole file agrees: no other column's values could be a
    count, so each row's price is that row's value whatever it counted — the revenue is the file's."""
    path = tmp_path / "order_items.csv"
    _numbered_items(path)
    profile, doc, by_col = _propose(path)

    quantity = _to(by_col, None, "canonical_order_lines", "quantity")
    assert quantity is not None and quantity["transform"] == [{"op": "constant", "value": 1}]
    assert quantity["confidence"] >= AUTO
    assert "no other column's values could be a count" in quantity["reason"]
    # The key built from the order and the item number has a header and unique values: it stays confident.
    key = _to(by_col, "order_id", "canonical_order_lines", "external_id")
    assert key["confidence"] >= AUTO


def test_a_quantity_read_from_the_structure_alone_is_not_loaded_unseen(tmp_path):
    """The same items with an unnamed column of small whole numbers the proposer leaves unmapped: it may be
    how many of the item each row sold, so one item per row is the structure's word alone: proposed for a
    person to confirm, and --auto names the quantity as what needs one."""
    path = tmp_path / "order_items.csv"
    _numbered_items(path, ",zz", lambda i, item: f",{1 + (i * item) % 4}")
    profile, doc, by_col = _propose(path)

    assert _to(by_col, "zz", "canonical_order_lines", "quantity") is None
    quantity = _to(by_col, None, "canonical_order_lines", "quantity")
    assert quantity is not None and quantity["transform"] == [{"op": "constant", "value": 1}]
    assert quantity["confidence"] == ONE_KIND
    assert "the file's structure alone" in quantity["reason"]
    accepted = [p for p in doc["proposals"] if p["canonical_table"] and p["confidence"] >= AUTO]
    problems = [
        n.line() for n in auto_gate(proposals=doc["proposals"], accepted=accepted, profile=profile, threshold=AUTO)
    ]
    assert any("canonical_order_lines.quantity" in line and "0.65" in line for line in problems), problems
