"""Money in minor units (issue 18, money18): divided by 100 only on evidence from values, never from a header alone.

Evidence: the same money in units beside it in the file (m = 100 × d on every row), a total in units that a
quantity and the column make once divided by 100, or rows already loaded from another file of the dataset that
give the same money in units (a products file's prices, a lines file's prices in cents).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical.models import OrderLine
from mappings.intake.dialect import sniff_file
from mappings.profiling.profile import profile_file
from mappings.services.ingest import ingest_file
from mappings.services.propose import mapping_propose
from tests.mappings.helpers import field, propose_by_column, run, upload_text

DIVIDE = {"op": "divide", "value": 100}

# A POS export: lines with a quantity, a unit price in cents (245 = 2.45) and the line total in units.
PRICES = {"ESP": 245, "LAT": 395, "CRO": 325, "MUF": 299, "BAG": 189}
LINES = [(1, "LAT", 4), (1, "ESP", 1), (1, "BAG", 1), (2, "BAG", 1), (2, "CRO", 2), (3, "MUF", 3), (3, "ESP", 2)]
LINES += [(4, "LAT", 1), (4, "CRO", 1), (5, "ESP", 4), (5, "MUF", 1), (6, "BAG", 2), (6, "LAT", 2)]


def _pos_lines() -> str:
    rows, number = ["order_id,line,product,quantity,unit_amount,total"], {}
    for order, product, quantity in LINES:
        number[order] = number.get(order, 0) + 1
        price = PRICES[product]
        rows.append(f"SO-{1000 + order},{number[order]},{product},{quantity},{price},{quantity * price / 100:.2f}")
    return "\n".join(rows) + "\n"


def _profile(path):
    return profile_file(path=path, dialect=sniff_file(path).as_json())


def test_a_total_that_quantity_times_price_makes_only_once_divided_by_100_puts_the_price_in_cents(tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text(_pos_lines())
    assert _profile(path)["grain"]["minor_units"] == [{"column": "unit_amount", "major": "total", "by": "quantity"}]


@pytest.mark.django_db
def test_a_price_in_cents_beside_a_total_in_units_is_the_unit_price_divided_by_100(tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text(_pos_lines())
    _, _, by_col = propose_by_column(path)
    (price,) = by_col["unit_amount"]
    assert (price["canonical_table"], price["canonical_col"]) == ("canonical_order_lines", "unit_price")
    assert price["transform"][-1] == DIVIDE
    assert "'total' = 'quantity' × 'unit_amount' / 100 on every row" in price["reason"]
    assert by_col["total"][0]["canonical_col"] == "amount"
    assert not any(s == DIVIDE for s in by_col["total"][0]["transform"] or [])


def test_the_same_money_in_cents_and_in_units_side_by_side(tmp_path):
    # A processor's export: 'amount' in cents and 'amount_decimal' in units, on every row.
    path = tmp_path / "charges.csv"
    amounts = [1000, 2000, 100, 2500, 1450, 1999, 305]
    path.write_text(
        "id,amount,amount_decimal,currency\n"
        + "".join(f"ch_{i},{a},{a / 100:.2f},usd\n" for i, a in enumerate(amounts))
    )
    assert _profile(path)["grain"]["minor_units"] == [{"column": "amount", "major": "amount_decimal"}]


# jaffle_payments-shaped: whole numbers that may be cents or units; nothing in the file says which.
PAYMENTS = "id,order_id,payment_method,amount\n" + "".join(
    f"{i},{i},{m},{a}\n"
    for i, (m, a) in enumerate(
        [("credit_card", 1000), ("credit_card", 2000), ("coupon", 100), ("coupon", 2500), ("bank_transfer", 1700)]
        + [("credit_card", 0), ("gift_card", 600), ("credit_card", 1400)],
        start=1,
    )
)


@pytest.mark.django_db
def test_whole_number_money_with_no_evidence_of_cents_is_never_divided(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text(PAYMENTS)
    profile, _, by_col = propose_by_column(path)
    assert profile["grain"]["minor_units"] == []
    assert not any(s.get("op") == "divide" for p in by_col["amount"] for s in p.get("transform") or [])


def test_a_header_saying_cents_is_not_evidence_on_its_own(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text(PAYMENTS.replace(",amount\n", ",amount_cents\n", 1))
    assert _profile(path)["grain"]["minor_units"] == []


CATALOGUE = "sku,name,price\n" + "".join(f"{k},{k.lower()} item,{v / 100:.2f}\n" for k, v in PRICES.items())
CATALOGUE_FIELDS = [
    field("sku", "canonical_products", "external_id"),
    field("name", "canonical_products", "name"),
    field("price", "canonical_products", "price"),
]


def _lines_without_total() -> str:
    number: dict[int, int] = {}
    rows = ["order_id,line,product,quantity,price"]
    for order, product, quantity in LINES:
        number[order] = number.get(order, 0) + 1
        rows.append(f"SO-{1000 + order},{number[order]},{product},{quantity},{PRICES[product]}")
    return "\n".join(rows) + "\n"


def test_prices_100_times_the_loaded_products_prices_are_in_cents(db, tmp_path):
    assert run(upload_text(tmp_path, CATALOGUE, name="menu.csv"), CATALOGUE_FIELDS).status == "succeeded"
    source = upload_text(tmp_path, _lines_without_total(), name="lines.csv")

    proposals = mapping_propose(source=source)["proposals"]

    (price,) = [p for p in proposals if p["source_col"] == "price"]
    assert (price["canonical_table"], price["canonical_col"]) == ("canonical_order_lines", "unit_price")
    assert price["transform"][-1] == DIVIDE
    assert "100 × the price of the product already loaded, for 5 of 5 products" in price["reason"]


def test_prices_equal_to_the_loaded_products_prices_stay_as_they_are(db, tmp_path):
    catalogue = "sku,name,price\n" + "".join(f"{k},{k.lower()} item,{v}\n" for k, v in PRICES.items())
    assert run(upload_text(tmp_path, catalogue, name="menu.csv"), CATALOGUE_FIELDS).status == "succeeded"
    source = upload_text(tmp_path, _lines_without_total(), name="lines.csv")

    proposals = mapping_propose(source=source)["proposals"]

    assert not any(s.get("op") == "divide" for p in proposals for s in p.get("transform") or [])


def test_the_divided_price_loads_in_units(db, tmp_path):
    path = tmp_path / "pos.csv"
    path.write_text(_pos_lines())
    fields = [
        field("order_id", "canonical_order_lines", "order_id"),
        field("product", "canonical_order_lines", "product_id"),
        field("quantity", "canonical_order_lines", "quantity"),
        field("unit_amount", "canonical_order_lines", "unit_price", [DIVIDE]),
        field("total", "canonical_order_lines", "amount"),
    ]
    job = run(upload_text(tmp_path, path.read_text()), fields)
    assert job.status == "succeeded", job.error
    assert set(OrderLine.objects.values_list("unit_price", flat=True)) == {Decimal(v) / 100 for v in PRICES.values()}


def test_ingest_auto_reads_the_catalogue_s_prices_then_the_lines_in_cents(db, tmp_path):
    menu = tmp_path / "menu.csv"
    menu.write_text(CATALOGUE)
    ingest_file(path=menu, user=None, fields=CATALOGUE_FIELDS)
    lines = tmp_path / "lines.csv"
    lines.write_text(_lines_without_total())
    _, job = ingest_file(path=lines, user=None, auto=True)
    assert job is not None and job.status == "succeeded", job and job.error
    assert set(OrderLine.objects.values_list("unit_price", flat=True)) == {Decimal(v) / 100 for v in PRICES.values()}
