"""A line total in the file is the truth: revenue per line is its amount when given, else q x p x (1 - d)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from canonical.models import Order, OrderLine
from tests.mappings.helpers import field, run, upload_text


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def order_revenue() -> dict[str, Decimal]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.external_id, r.revenue FROM kpi_order_revenue r JOIN canonical_orders o ON o.id = r.order_id"
        )
        return dict(cursor.fetchall())


# Net line totals with a quantity and a discount but no unit price (a line-level sales export).
NET_TOTALS = "order,product,qty,discount,sales\nO1,P1,3,0.2,261.96\nO1,P2,2,0,731.94\nO2,P1,7,0.45,14.62\n"
NET_FIELDS = [
    field("order", "canonical_order_lines", "order_id"),
    field("product", "canonical_order_lines", "product_id"),
    field("qty", "canonical_order_lines", "quantity"),
    field("discount", "canonical_order_lines", "discount"),
    field("sales", "canonical_order_lines", "amount"),
]


def test_a_line_file_with_totals_quantity_and_discount_but_no_price_gives_exact_revenue(db, tmp_path):
    job = run(upload_text(tmp_path, NET_TOTALS), NET_FIELDS)

    assert job.status == "succeeded", job.error
    assert order_revenue() == {"O1": Decimal("993.90"), "O2": Decimal("14.62")}
    assert not OrderLine.objects.filter(amount_computed=True).exists()
    # The placeholder orders the lines created take their amount from their lines.
    assert Order.objects.get(external_id="O1").amount == Decimal("993.90")


def test_a_mapped_line_amount_wins_over_quantity_times_unit_price(db, tmp_path):
    text = "order,product,qty,price,discount,total\nO1,P1,3,100.00,0.1,250.00\nO1,P2,1,9.99,0,9.99\n"
    fields = [
        field("order", "canonical_order_lines", "order_id"),
        field("product", "canonical_order_lines", "product_id"),
        field("qty", "canonical_order_lines", "quantity"),
        field("price", "canonical_order_lines", "unit_price"),
        field("discount", "canonical_order_lines", "discount"),
        field("total", "canonical_order_lines", "amount"),
    ]
    run(upload_text(tmp_path, text), fields)

    assert order_revenue() == {"O1": Decimal("259.99")}  # not 3 x 100 x 0.9 + 9.99 = 279.99


def test_a_line_amount_the_engine_computed_keeps_the_exact_product(db, tmp_path):
    # 3 x 3.33 x (1 - 0.15) = 8.4915: the stored amount is rounded, the revenue keeps the exact product.
    text = "order,product,qty,price,discount\nO1,P1,3,3.33,0.15\n"
    fields = [
        field("order", "canonical_order_lines", "order_id"),
        field("product", "canonical_order_lines", "product_id"),
        field("qty", "canonical_order_lines", "quantity"),
        field("price", "canonical_order_lines", "unit_price"),
        field("discount", "canonical_order_lines", "discount"),
    ]
    run(upload_text(tmp_path, text), fields)

    line = OrderLine.objects.get()
    assert (line.amount, line.amount_computed) == (Decimal("8.49"), True)
    assert order_revenue() == {"O1": Decimal("8.4915")}


def test_remapping_a_line_file_with_its_amount_marks_the_amount_as_from_the_file(db, tmp_path):
    text = "order,product,qty,price,total\nO1,P1,2,10.00,18.00\n"
    base = [
        field("order", "canonical_order_lines", "order_id"),
        field("product", "canonical_order_lines", "product_id"),
        field("qty", "canonical_order_lines", "quantity"),
        field("price", "canonical_order_lines", "unit_price"),
    ]
    run(upload_text(tmp_path, text, name="a.csv"), base)
    assert order_revenue() == {"O1": Decimal("20.00")}

    job = run(upload_text(tmp_path, text, name="b.csv"), [*base, field("total", "canonical_order_lines", "amount")])

    assert job.report["tables"]["canonical_order_lines"]["updated"] == 1
    assert order_revenue() == {"O1": Decimal("18.00")}


def test_orders_without_a_total_and_without_lines_are_reported_not_silently_null(db, tmp_path):
    text = "order,date\nO1,2024-01-05\nO2,2024-01-06\n"
    fields = [field("order", "canonical_orders", "external_id"), field("date", "canonical_orders", "order_date")]
    job = run(upload_text(tmp_path, text), fields)

    assert job.status == "succeeded", job.error
    assert job.report["tables"]["canonical_orders"]["amount_missing"] == 2
    assert any("2 orders have no amount" in w for w in job.report["warnings"])

    lines = "order,product,qty,total\nO1,P1,1,12.50\n"
    line_fields = [
        field("order", "canonical_order_lines", "order_id"),
        field("product", "canonical_order_lines", "product_id"),
        field("qty", "canonical_order_lines", "quantity"),
        field("total", "canonical_order_lines", "amount"),
    ]
    job = run(upload_text(tmp_path, lines, name="lines.csv"), line_fields)

    assert Order.objects.get(external_id="O1").amount == Decimal("12.50")
    assert not any("no amount" in w for w in job.report.get("warnings", []))
