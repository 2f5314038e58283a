"""Order lines priced by their product: a lines file with a product and a quantity but no price takes each
line's unit price from canonical_products, as an analyst would (the AdventureWorks and pizza datasets)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection

from canonical.models import OrderLine, Product
from mappings.services.execute import PRICED_AT_LOAD, transform_preview
from mappings.services.mapping import mapping_validate
from tests.mappings.helpers import field, run, upload_text

PRICE = [{"op": "product_price"}]
# A price list loaded first: AdventureWorks-shaped (ProductKey, name, price with four decimals).
PRODUCTS = 'ProductKey,ProductName,ProductPrice\n214,"Sport-100 Helmet, Red",34.99\n215,Mountain Bike Socks,9.5\n'
PRODUCT_FIELDS = [
    field("ProductKey", "canonical_products", "external_id"),
    field("ProductName", "canonical_products", "name"),
    field("ProductPrice", "canonical_products", "price"),
]
# The sales lines: an order number, a product key and a quantity; no price and no line total.
SALES = "OrderNumber,ProductKey,OrderQuantity\nSO1,214,2\nSO1,215,1\nSO2,215,3\n"
SALES_FIELDS = [
    field("OrderNumber", "canonical_order_lines", "order_id"),
    field("ProductKey", "canonical_order_lines", "product_id"),
    field("OrderQuantity", "canonical_order_lines", "quantity"),
    field(None, "canonical_order_lines", "unit_price", PRICE),
]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def load_products(tmp_path, text: str = PRODUCTS) -> None:
    job = run(upload_text(tmp_path, text, name="products.csv"), PRODUCT_FIELDS)
    assert job.status == "succeeded", job.error


def order_revenue() -> dict[str, Decimal]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.external_id, r.revenue FROM kpi_order_revenue r JOIN canonical_orders o ON o.id = r.order_id"
        )
        return dict(cursor.fetchall())


def lines() -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    return {
        (line.order.external_id, line.product.external_id): (line.unit_price, line.amount)
        for line in OrderLine.objects.select_related("order", "product")
    }


def test_lines_without_a_price_take_each_products_price_from_the_catalogue(db, tmp_path):
    load_products(tmp_path)

    job = run(upload_text(tmp_path, SALES, name="sales.csv"), SALES_FIELDS)

    assert job.status == "succeeded", job.error
    assert lines() == {
        ("SO1", "214"): (Decimal("34.99"), Decimal("69.98")),
        ("SO1", "215"): (Decimal("9.50"), Decimal("9.50")),
        ("SO2", "215"): (Decimal("9.50"), Decimal("28.50")),
    }
    assert order_revenue() == {"SO1": Decimal("79.48"), "SO2": Decimal("28.50")}
    assert job.report["tables"]["canonical_order_lines"]["rejected"] == 0


def test_a_line_whose_product_is_not_in_the_catalogue_is_rejected_with_its_reason(db, tmp_path):
    load_products(tmp_path)
    text = SALES + "SO3,999,1\n"

    job = run(upload_text(tmp_path, text, name="sales.csv"), SALES_FIELDS)

    report = job.report["tables"]["canonical_order_lines"]
    assert (report["inserted"], report["rejected"]) == (3, 1)
    (error,) = [e for e in job.report["errors"] if "999" in e]
    assert "no canonical_products row has external id or name '999'" in error
    assert "load the products file first" in error
    # The missing product is not invented as a placeholder: it could not have priced the line.
    assert not Product.objects.filter(external_id="999").exists()
    assert not OrderLine.objects.filter(product__external_id="999").exists()


def test_a_line_whose_product_has_no_price_is_rejected_never_priced_zero(db, tmp_path):
    load_products(tmp_path, PRODUCTS + "216,Water Bottle,\n")
    text = SALES + "SO3,216,4\nSO4,,1\n"

    job = run(upload_text(tmp_path, text, name="sales.csv"), SALES_FIELDS)

    errors = job.report["errors"]
    assert any("product '216' has no price in canonical_products" in e for e in errors), errors
    assert any("the line names no product" in e for e in errors), errors
    assert job.report["tables"]["canonical_order_lines"]["rejected"] == 2
    assert not OrderLine.objects.filter(unit_price__isnull=True).exists()
    assert not OrderLine.objects.filter(unit_price=0).exists()


def test_running_the_priced_lines_again_changes_nothing(db, tmp_path):
    load_products(tmp_path)
    source = upload_text(tmp_path, SALES, name="sales.csv")
    run(source, SALES_FIELDS)
    before = lines()

    again = run(source, SALES_FIELDS)

    counts = again.report["tables"]["canonical_order_lines"]
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 0, 3)
    assert lines() == before


def test_a_later_price_change_does_not_rewrite_lines_already_loaded(db, tmp_path):
    load_products(tmp_path)
    run(upload_text(tmp_path, SALES, name="sales.csv"), SALES_FIELDS)

    load_products(tmp_path, PRODUCTS.replace("34.99", "39.99"))

    assert OrderLine.objects.get(order__external_id="SO1", product__external_id="214").unit_price == Decimal("34.99")
    assert Product.objects.get(external_id="214").price == Decimal("39.99")


def test_the_preview_says_the_price_comes_from_the_product(db, tmp_path):
    source = upload_text(tmp_path, SALES, name="sales.csv")

    rows = transform_preview(source=source, fields=SALES_FIELDS)

    assert {r["values"]["unit_price"] for r in rows} == {PRICED_AT_LOAD}
    assert {r["values"]["product_id"] for r in rows} == {"214", "215"}
    assert not any(r["errors"] for r in rows)


def test_the_product_price_fills_only_a_lines_unit_price_and_needs_the_product(db, tmp_path):
    source = upload_text(tmp_path, SALES, name="sales.csv")
    without_product = [f for f in SALES_FIELDS if f["canonical_col"] != "product_id"]
    on_orders = [*SALES_FIELDS[:3], field(None, "canonical_orders", "amount", PRICE)]
    with_other_steps = [*SALES_FIELDS[:3], field(None, "canonical_order_lines", "unit_price", [*PRICE, {"op": "abs"}])]

    assert any(
        "map a column to canonical_order_lines.product_id" in e
        for e in mapping_validate(source=source, fields=without_product)
    )
    assert any(
        "fills canonical_order_lines.unit_price only" in e for e in mapping_validate(source=source, fields=on_orders)
    )
    assert any("the only step" in e for e in mapping_validate(source=source, fields=with_other_steps))
    assert mapping_validate(source=source, fields=SALES_FIELDS) == []


# ---- The proposer: the evidence decides, as an analyst reads the files --------------------------------------


def sales_lines(products: list[int], rows: int = 120) -> str:
    """AdventureWorks-shaped sales lines: day-first dates, an order number repeated on its lines, a product
    key, a customer key, a line number and a quantity; no price, no line total."""
    out = ["OrderDate,OrderNumber,ProductKey,CustomerKey,OrderLineItem,OrderQuantity"]
    for i in range(rows):
        order = 45000 + i // 2
        day = 1 + (i // 2) % 28
        out.append(
            f"{day:02d}-0{1 + i % 9}-2015,SO{order},{products[i % len(products)]},{11000 + (i * 7) % 90},"
            f"{1 + i % 2},{1 + (i * 5) % 3}"
        )
    return "\n".join(out) + "\n"


def catalogue(keys: list[int], *, unpriced: tuple[int, ...] = ()) -> str:
    rows = [f"{k},Product {k},{'' if k in unpriced else f'{10 + k % 40}.99'}" for k in keys]
    return "ProductKey,ProductName,ProductPrice\n" + "\n".join(rows) + "\n"


def proposed_price(tmp_path, text: str) -> dict | None:
    from mappings.services.propose import mapping_propose

    source = upload_text(tmp_path, text, name="sales_2015.csv")
    proposals = mapping_propose(source=source)["proposals"]
    return next((p for p in proposals if p["canonical_col"] == "unit_price"), None)


PRODUCT_KEYS = list(range(300, 350))  # 50 products


def test_lines_with_no_price_whose_products_are_all_priced_take_the_products_price(db, tmp_path):
    load_products(tmp_path, catalogue(PRODUCT_KEYS))

    price = proposed_price(tmp_path, sales_lines(PRODUCT_KEYS))

    assert price["source_col"] is None and price["transform"] == PRICE
    assert price["confidence"] >= 0.7
    assert price["reason"].startswith(
        "the lines have no price or line total; 100% of their products (50 of the 50 product keys in "
        "'ProductKey') are priced in the catalogue, so each line takes its product's price"
    )
    assert "'OrderQuantity' is each line's quantity" in price["reason"]


def test_98_percent_of_the_products_priced_is_the_catalogue_and_the_rest_are_rejected(db, tmp_path):
    load_products(tmp_path, catalogue(PRODUCT_KEYS[:-1]))  # one product of the lines is not in the catalogue

    price = proposed_price(tmp_path, sales_lines(PRODUCT_KEYS))

    assert price["confidence"] >= 0.7
    assert "98% of their products (49 of the 50 product keys in 'ProductKey')" in price["reason"]
    assert "the lines of the 1 other product key will be rejected" in price["reason"]


def test_a_catalogue_that_prices_few_of_the_lines_products_is_not_their_price_list(db, tmp_path):
    load_products(tmp_path, catalogue(PRODUCT_KEYS[:10]))

    price = proposed_price(tmp_path, sales_lines(PRODUCT_KEYS))

    assert price["confidence"] < 0.7
    assert "only 10 of the 50 product keys in 'ProductKey' are priced products" in price["reason"]


def test_products_in_the_catalogue_without_prices_do_not_price_the_lines(db, tmp_path):
    load_products(tmp_path, catalogue(PRODUCT_KEYS, unpriced=tuple(PRODUCT_KEYS[5:])))

    price = proposed_price(tmp_path, sales_lines(PRODUCT_KEYS))

    assert price["confidence"] < 0.7
    assert "only 5 of the 50" in price["reason"]


def test_ingest_auto_refuses_priceless_lines_until_the_products_file_is_loaded(db, tmp_path):
    from mappings.services.ingest import AutoRefused, ingest_file

    path = tmp_path / "sales_2015.csv"
    path.write_text(sales_lines(PRODUCT_KEYS))

    with pytest.raises(AutoRefused) as refused:
        ingest_file(path=path, user=None, auto=True)

    assert "canonical_order_lines.unit_price" in str(refused.value)
    assert "load the products file first" in str(refused.value)
    assert not OrderLine.objects.exists()


def test_ingest_auto_prices_the_lines_from_the_products_loaded_first(db, tmp_path):
    from mappings.services.ingest import ingest_file

    load_products(tmp_path, catalogue(PRODUCT_KEYS[:-1]))
    path = tmp_path / "sales_2015.csv"
    path.write_text(sales_lines(PRODUCT_KEYS))

    source, job = ingest_file(path=path, user=None, auto=True)

    counts = job.report["tables"]["canonical_order_lines"]
    # 120 lines over 50 products: the 2 lines of the product the catalogue lacks are rejected, named.
    assert (counts["inserted"], counts["rejected"]) == (118, 2)
    assert all("'349'" in e and "load the products file first" in e for e in job.report["errors"])
    for line in OrderLine.objects.select_related("product"):
        assert line.unit_price == line.product.price
        assert line.amount == line.unit_price * line.quantity


# ---- The review page: the choice is shown, saved in the version, previewed ----------------------------------


def _review_post(source, rows, steps: dict[int, dict[str, dict]] | None = None) -> dict:
    data = {"rows": str(len(rows)), "on_missing_reference": "placeholder"}
    for i, (col, target) in enumerate(rows):
        data.update({f"source_col-{i}": col, f"target-{i}": target, f"transform-{i}": "", f"pii-{i}": "keep"})
    for row, row_steps in (steps or {}).items():
        data[f"step-{row}"] = list(row_steps)
        for key, boxes in row_steps.items():
            data.update({f"{box}-{row}-{key}": value for box, value in boxes.items()})
    return data


def _upload(tmp_path, name: str, text: str, user):
    from mappings.services.sources import data_source_upload

    path = tmp_path / name
    path.write_text(text)
    with open(path, "rb") as fh:
        return data_source_upload(file=fh, name=name, user=user).source


def test_the_review_page_shows_the_products_price_as_the_lines_unit_price(client, executive, tmp_path):
    load_products(tmp_path, catalogue(PRODUCT_KEYS))
    source = _upload(tmp_path, "sales_2015.csv", sales_lines(PRODUCT_KEYS), executive)
    client.force_login(executive)

    page = client.get(f"/uploads/{source.pk}/review/").content.decode()

    (step,) = re.findall(r'<fieldset class="step" data-op="product_price"[^>]*>(.*?)</fieldset>', page, re.S)
    assert "The line&#x27;s product&#x27;s price" in step and 'data-testid="product-price-note"' in step
    assert "are priced in the catalogue, so each line takes its product&#x27;s price" in page


def test_saving_the_review_keeps_the_products_price_in_the_mapping_version(client, executive, tmp_path):
    source = _upload(tmp_path, "sales.csv", SALES, executive)
    client.force_login(executive)
    rows = [
        ("OrderNumber", "canonical_order_lines.order_id"),
        ("ProductKey", "canonical_order_lines.product_id"),
        ("OrderQuantity", "canonical_order_lines.quantity"),
        ("", "canonical_order_lines.unit_price"),
    ]
    data = _review_post(source, rows, {3: {"a": {"op": "product_price"}}})

    preview = client.post(f"/uploads/{source.pk}/review/preview/", data, HTTP_HX_REQUEST="true").content.decode()
    response = client.post(f"/uploads/{source.pk}/review/", data)

    assert "the product&#x27;s price, at load" in preview
    assert "is required" not in preview
    assert response.status_code == 302, response.content.decode()[:2000]
    price = source.mappings.get().fields.get(canonical_col="unit_price")
    assert (price.source_col, price.transform) == (None, PRICE)


def test_propose_mapping_proposes_what_ingest_auto_loads_for_priceless_lines(db, tmp_path):
    import io
    import json

    from django.core.management import call_command

    load_products(tmp_path, catalogue(PRODUCT_KEYS))
    path = tmp_path / "sales_2015.csv"
    path.write_text(sales_lines(PRODUCT_KEYS))
    out = io.StringIO()

    call_command("propose_mapping", str(path), "--json", stdout=out)

    (price,) = [p for p in json.loads(out.getvalue())["proposals"] if p["canonical_col"] == "unit_price"]
    assert (price["transform"], price["confidence"] >= 0.7) == (PRICE, True)
