"""Schema v2 columns load like every other: payments by order without a date, a line's supplier, order parts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical.models import Order, OrderLine, Payment, Supplier
from canonical.schema import TABLES_BY_NAME
from tests.mappings.helpers import field, run, upload_text


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def test_a_payments_file_keyed_by_order_with_no_date_loads_linked_to_its_orders(db, tmp_path):
    run(
        upload_text(tmp_path, "order,date,total\nO1,2024-01-05,100.00\n", name="orders.csv"),
        [
            field("order", "canonical_orders", "external_id"),
            field("date", "canonical_orders", "order_date"),
            field("total", "canonical_orders", "amount"),
        ],
    )
    job = run(
        upload_text(tmp_path, "order,seq,type,value\nO1,1,credit_card,60.00\nO1,2,voucher,40.00\n", name="pay.csv"),
        [
            field("order", "canonical_payments", "order_id"),
            field("type", "canonical_payments", "method"),
            field("value", "canonical_payments", "amount"),
        ],
    )

    assert job.status == "succeeded", job.error
    assert job.report["tables"]["canonical_payments"]["inserted"] == 2
    order = Order.objects.get(external_id="O1")
    assert sorted(p.amount for p in Payment.objects.filter(order=order)) == [Decimal("40.00"), Decimal("60.00")]
    assert not Payment.objects.filter(payment_date__isnull=False).exists()


def test_a_lines_seller_becomes_the_lines_supplier(db, tmp_path):
    text = "order,product,seller,qty,price\nO1,P1,S-9,1,10.00\nO1,P2,S-7,2,5.00\n"
    job = run(
        upload_text(tmp_path, text),
        [
            field("order", "canonical_order_lines", "order_id"),
            field("product", "canonical_order_lines", "product_id"),
            field("seller", "canonical_order_lines", "supplier_id"),
            field("qty", "canonical_order_lines", "quantity"),
            field("price", "canonical_order_lines", "unit_price"),
        ],
    )

    assert job.report["placeholders"]["canonical_suppliers"] == 2
    assert OrderLine.objects.get(product__external_id="P1").supplier == Supplier.objects.get(external_id="S-9")


def test_an_orders_shipping_tax_and_discount_amounts_load_as_money(db, tmp_path):
    text = 'order,date,total,freight,vat,disc\nO1,2024-01-05,119.00,5.50,19.00,"1,50"\n'
    run(
        upload_text(tmp_path, text),
        [
            field("order", "canonical_orders", "external_id"),
            field("date", "canonical_orders", "order_date"),
            field("total", "canonical_orders", "amount"),
            field("freight", "canonical_orders", "shipping_amount"),
            field("vat", "canonical_orders", "tax_amount"),
            field("disc", "canonical_orders", "discount_amount", [{"op": "parse_number", "locale": "de"}]),
        ],
    )

    order = Order.objects.get()
    assert (order.shipping_amount, order.tax_amount, order.discount_amount) == (
        Decimal("5.50"),
        Decimal("19.00"),
        Decimal("1.50"),
    )


def test_the_v2_columns_are_proposer_targets_and_v1_names_are_kept():
    assert {"shipping_amount", "tax_amount", "discount_amount"} <= set(TABLES_BY_NAME["canonical_orders"].column_names)
    assert "supplier_id" in TABLES_BY_NAME["canonical_order_lines"].column_names
    payments = TABLES_BY_NAME["canonical_payments"]
    assert payments.column("order_id").references == "canonical_orders"
    assert not payments.column("payment_date").required
    assert payments.missing_required({"amount"}) == []
