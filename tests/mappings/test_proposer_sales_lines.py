"""Sales order exports that carry revenue (issue 18, orders18): read from the rows' arithmetic and values, not a
header word. The column that is quantity × price on every row is the line's total (a small file's totals are all
different: money unique on every row still multiplies); the price it uses is the line's unit price, a cost beside
it makes another total; the parts of the total (cost + profit) are no amount; a discount column of rates between
0 and 1 is the share off the price; an order number written 'SO - 000101' is a code."""

from __future__ import annotations

from pathlib import Path

import pytest

from mappings.profiling.profile import profile_file
from tests.mappings.helpers import propose_by_column
from tests.mappings.test_auto_gate import _gate

REAL = Path(__file__).resolve().parents[1] / "data" / "real"

# One order of one item per row: Total Revenue = Units × Unit Price, Total Cost = Units × Unit Cost, Total Profit
# = the difference. Every total differs from every other (unique on every row). No header calls a total 'amount'.
ITEMS = [
    ("Cereal", 205.70, 117.11),
    ("Snacks", 152.58, 97.44),
    ("Fruits", 9.33, 6.92),
    ("Meat", 421.89, 364.69),
    ("Clothes", 109.28, 35.84),
    ("Household", 668.27, 502.54),
    ("Cosmetics", 437.20, 263.33),
    ("Beverages", 47.45, 31.79),
    ("Baby Food", 255.28, 159.42),
    ("Vegetables", 154.06, 90.93),
    ("Personal Care", 81.73, 56.67),
    ("Office Supplies", 651.21, 524.96),
]


def _regional_export() -> str:
    rows = []
    for i in range(60):
        item, price, cost = ITEMS[i % len(ITEMS)]
        units = 100 + 37 * i
        revenue, total_cost = round(units * price, 2), round(units * cost, 2)
        rows.append(
            f"{['Asia', 'Europe'][i % 2]},{item},{'Online' if i % 3 else 'Offline'},{'HMLC'[i % 4]},"
            f"{i % 12 + 1}/{i % 27 + 1}/2014,{800000 + 7919 * i},{i % 12 + 1}/{i % 27 + 2}/2014,"
            f"{units},{price:.2f},{cost:.2f},{revenue:.2f},{total_cost:.2f},{revenue - total_cost:.2f}"
        )
    header = "Region,Item Type,Sales Channel,Order Priority,Order Date,Order ID,Ship Date,Units Sold,Unit Price,"
    return header + "Unit Cost,Total Revenue,Total Cost,Total Profit\n" + "\n".join(rows) + "\n"


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


def test_money_unique_on_every_row_still_multiplies(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text(_regional_export())
    found = profile_file(path=path, dialect={"delimiter": ","})["grain"]["arithmetic"]
    assert ["Total Revenue", "Units Sold", "Unit Price"] in found["products"]
    assert ["Total Cost", "Units Sold", "Unit Cost"] in found["products"]
    assert ["Total Revenue", "Total Cost", "Total Profit"] in found["sums"]


def test_the_rows_own_number_multiplies_nothing(tmp_path):
    path = tmp_path / "lines.csv"
    # The row number 1..n times a quantity of 1 would "make" a copy of itself: the rows' key is left out.
    path.write_text("Row,qty,copy,price\n" + "".join(f"{i},1,{i},{3 + i * 1.5:.2f}\n" for i in range(1, 30)))
    found = profile_file(path=path, dialect={"delimiter": ","})["grain"]["arithmetic"]
    assert not any("Row" in triple for triple in found["products"]), found


@pytest.mark.django_db
def test_the_total_that_is_quantity_times_price_is_the_line_amount_not_the_cost_or_profit():
    # The dev corpus's regional export (100 orders): every total differs, no header calls one an amount.
    _, _, by_col = propose_by_column(REAL / "sales_records_100.csv")
    assert _targets(by_col, "Total Revenue") == {"canonical_order_lines.amount"}
    assert by_col["Total Revenue"][0]["confidence"] >= 0.8
    assert _targets(by_col, "Unit Price") == {"canonical_order_lines.unit_price"}
    assert _targets(by_col, "Units Sold") == {"canonical_order_lines.quantity"}
    # Unique on every row, yet no row number: it multiplies the price into the total.
    assert by_col["Units Sold"][0]["confidence"] >= 0.8
    for column in ("Total Cost", "Total Profit"):
        assert not _targets(by_col, column) & {"canonical_order_lines.amount", "canonical_orders.amount"}
    assert "canonical_order_lines.unit_price" not in _targets(by_col, "Unit Cost")


@pytest.mark.django_db
def test_a_total_named_by_no_amount_word_is_loaded_by_auto(tmp_path):
    path = tmp_path / "online.csv"
    path.write_text(
        "Transaction ID,Date,Product Name,Units Sold,Unit Price,Total Revenue,Region\n"
        + "".join(
            f"{10001 + i},{i % 28 + 1:02d}-0{i % 9 + 1}-24,Item {i % 7},{i % 4 + 1},{19.99 + i:.2f},"
            f"{(i % 4 + 1) * (19.99 + i):.2f},{'Asia' if i % 2 else 'Europe'}\n"
            for i in range(30)
        )
    )
    accepted, problems = _gate(path)
    assert not problems, problems
    assert {"source_col": "Total Revenue", "target": "canonical_order_lines.amount"} in [
        {"source_col": p["source_col"], "target": f"{p['canonical_table']}.{p['canonical_col']}"} for p in accepted
    ]


@pytest.mark.django_db
def test_a_gross_split_into_a_discount_and_a_net_charges_the_net(tmp_path):
    path = tmp_path / "gross.csv"
    rows = []
    for i in range(24):
        units, price = 10 + i, 12.0 + (i % 5)
        gross = units * price
        discount = round(gross * (0.05 if i % 2 else 0.1), 2)
        rows.append(
            f"SO{500 + i},2024-02-{i + 1:02d},{units},{price:.2f},{gross:.2f},{discount:.2f},{gross - discount:.2f}"
        )
    path.write_text("Order,Date,Qty,Price,Gross,Discounts,Net\n" + "\n".join(rows) + "\n")
    _, _, by_col = propose_by_column(path)
    # One order per row, no lines fed: the net is the order's amount; the gross is no amount.
    assert _targets(by_col, "Net") & {"canonical_order_lines.amount", "canonical_orders.amount"}
    assert not _targets(by_col, "Gross") & {"canonical_order_lines.amount", "canonical_orders.amount"}


@pytest.mark.django_db
def test_a_discount_of_rates_beside_quantity_and_price_is_the_lines_discount(tmp_path):
    path = tmp_path / "regional.csv"
    rows = [
        f"SO - {1000 + i:06d},{['In-Store', 'Online', 'Wholesale'][i % 3]},{i % 12 + 1}/{i % 27 + 1}/19,"
        f'{i % 8 + 1},{[0.05, 0.075, 0.1, 0.2, 0.4][i % 5]},"{1000 + 137.1 * i:,.2f}"'
        for i in range(40)
    ]
    path.write_text(
        "OrderNumber,Sales Channel,OrderDate,Order Quantity,Discount Applied,Unit Price\n" + "\n".join(rows)
    )
    accepted, problems = _gate(path)
    assert not problems, problems
    targets = {(p["source_col"], f"{p['canonical_table']}.{p['canonical_col']}") for p in accepted}
    assert ("Discount Applied", "canonical_order_lines.discount") in targets
    # 'SO - 001000' is a code (a prefix and a number): the lines refer to their order by it, unseen.
    assert ("OrderNumber", "canonical_order_lines.order_id") in targets


def test_a_month_number_column_says_which_field_of_the_dates_is_the_month(tmp_path):
    # Every date is the 1st: no value tells day from month, but 'Month Number' equals the middle field on every row.
    path = tmp_path / "financial.csv"
    path.write_text(
        "Product,Units Sold,Date,Month Number,Year\n"
        + "".join(f"P{i % 5},{100 + i},01/{i % 12 + 1:02d}/2014,{i % 12 + 1},2014\n" for i in range(30))
    )
    profile = profile_file(path=path, dialect={"delimiter": ","})
    (date,) = [c for c in profile["columns"] if c["name"] == "Date"]
    assert date["format"] == "%d/%m/%Y" and not date["ambiguous"]
    assert "Month Number" in date["date_evidence"]["reason"]
