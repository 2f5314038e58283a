"""Attributes on the mapping side: the proposer keeps unmapped columns, the review page offers and previews them."""

from __future__ import annotations

import pytest

from canonical.models import AttributeKey, Order
from mappings.services.execute import execution_run_now
from mappings.services.mapping import mapping_save
from mappings.services.propose import mapping_propose
from tests.mappings.helpers import upload_text

ORDERS = (
    "Order ID,Order Date,Total,Region,Profit,Returned,Buyer Phone,Postal Code\n"
    "SO-1,2024-01-05,100.50,West,12.5,yes,+49 30 1234567,01067\n"
    "SO-2,2024-01-06,20.00,East,-3,no,+49 30 7654321,20095\n"
    "SO-3,2024-02-06,35.00,West,4,no,+49 40 1111111,80331\n"
    "SO-4,2024-02-07,5.00,North,1.25,yes,+49 40 2222222,50667\n"
)


@pytest.fixture
def orders_upload(db, tmp_path, executive):
    return upload_text(tmp_path, ORDERS, name="orders.csv", user=executive)


def _by_col(proposals: list[dict]) -> dict[str, dict]:
    return {p["source_col"]: p for p in proposals}


def test_the_proposer_keeps_every_unmapped_column_as_a_typed_attribute_of_the_files_table(orders_upload, executive):
    proposals = _by_col(mapping_propose(source=orders_upload, user=executive)["proposals"])

    assert (proposals["Region"]["canonical_table"], proposals["Region"]["canonical_col"]) == (
        "canonical_orders",
        "attributes.region",
    )
    assert proposals["Region"]["transform"] is None  # text
    assert proposals["Profit"]["canonical_col"] == "attributes.profit"
    assert proposals["Profit"]["transform"] == [{"op": "parse_number", "locale": "en"}]
    assert proposals["Returned"]["transform"][0]["op"] == "parse_bool"
    assert proposals["Region"]["confidence"] >= 0.7  # --auto keeps them
    assert "attribute" in proposals["Region"]["reason"]


def test_personal_data_is_not_kept_as_an_attribute_unless_the_user_chooses_it(orders_upload, executive):
    proposals = _by_col(mapping_propose(source=orders_upload, user=executive)["proposals"])

    for name in ("Buyer Phone", "Postal Code"):
        assert proposals[name]["canonical_table"] is None
        assert "personal data" in proposals[name]["reason"]


def test_a_key_registered_as_text_is_proposed_as_text_again(orders_upload, executive):
    AttributeKey.objects.create(table="canonical_orders", key="profit", type="text")
    proposals = _by_col(mapping_propose(source=orders_upload, user=executive)["proposals"])
    assert proposals["Profit"]["canonical_col"] == "attributes.profit" and proposals["Profit"]["transform"] is None


def test_a_key_registered_with_another_type_gets_a_key_of_its_own(orders_upload, executive):
    AttributeKey.objects.create(table="canonical_orders", key="region", type="number")
    proposals = _by_col(mapping_propose(source=orders_upload, user=executive)["proposals"])
    assert proposals["Region"]["canonical_col"] == "attributes.region_2"


def test_the_proposals_load_as_they_are_and_keep_the_columns(orders_upload, executive):
    fields = [p for p in mapping_propose(source=orders_upload, user=executive)["proposals"] if p["canonical_table"]]
    mapping = mapping_save(source=orders_upload, fields=fields, user=executive)
    job = execution_run_now(source=orders_upload, mapping=mapping, user=executive)

    assert job.status == "succeeded", job.report
    assert Order.objects.get(external_id="SO-1").attributes == {"region": "West", "profit": 12.5, "returned": True}


def _review_post(rows: list[tuple[str, str, str]]) -> dict:
    data = {"rows": str(len(rows)), "on_missing_reference": "placeholder"}
    for i, (col, target, transform) in enumerate(rows):
        data.update({f"source_col-{i}": col, f"target-{i}": target, f"transform-{i}": transform, f"pii-{i}": "keep"})
    return data


MAPPED = [
    ("Order ID", "canonical_orders.external_id", ""),
    ("Order Date", "canonical_orders.order_date", ""),
    ("Total", "canonical_orders.amount", '[{"op": "parse_number"}]'),
]


def test_the_review_page_offers_keep_as_attribute_and_selects_it_for_kept_columns(client, orders_upload, executive):
    client.force_login(executive)
    body = client.get(f"/uploads/{orders_upload.pk}/review/").content.decode()

    assert 'value="canonical_orders.attributes.region" data-testid="keep-attribute" selected' in body
    # A personal-data column is offered the choice, not given it.
    assert 'value="canonical_orders.attributes.buyer_phone" data-testid="keep-attribute" >' in body


def test_choosing_keep_as_attribute_for_personal_data_saves_it(client, orders_upload, executive):
    client.force_login(executive)
    rows = [*MAPPED, ("Buyer Phone", "canonical_orders.attributes.buyer_phone", "")]

    response = client.post(f"/uploads/{orders_upload.pk}/review/", _review_post(rows))

    assert response.status_code == 302, response.content.decode()[:2000]  # saved: back to the review page
    kept = orders_upload.mappings.get().fields.get(source_col="Buyer Phone")
    assert (kept.canonical_table, kept.canonical_col) == ("canonical_orders", "attributes.buyer_phone")


def test_an_attribute_named_like_a_column_is_refused_on_the_review_page(client, orders_upload, executive):
    client.force_login(executive)
    rows = [*MAPPED, ("Region", "canonical_orders.attributes.status", "")]

    response = client.post(f"/uploads/{orders_upload.pk}/review/", _review_post(rows))

    assert response.status_code == 400
    assert "is not a canonical column" in response.content.decode()
    assert not orders_upload.mappings.exists()


def test_the_preview_shows_each_attribute_as_a_column(client, orders_upload, executive):
    client.force_login(executive)
    rows = [
        *MAPPED,
        ("Region", "canonical_orders.attributes.region", ""),
        ("Profit", "canonical_orders.attributes.profit", '[{"op": "parse_number"}]'),
    ]

    body = client.post(f"/uploads/{orders_upload.pk}/review/preview/", _review_post(rows), HTTP_HX_REQUEST="true")

    text = body.content.decode()
    assert '<th scope="col">attributes.region</th>' in text and '<th scope="col">attributes.profit</th>' in text
    assert "<td>West</td>" in text and "<td>-3</td>" in text and "<td>12.5</td>" in text


def test_a_number_column_with_values_that_do_not_read_as_numbers_is_kept_as_text(db, tmp_path, executive):
    text = ORDERS.replace("SO-3,2024-02-06,35.00,West,4,", "SO-3,2024-02-06,35.00,West,n/v,")
    upload = upload_text(tmp_path, text, name="orders.csv", user=executive)
    proposals = _by_col(mapping_propose(source=upload, user=executive)["proposals"])
    assert proposals["Profit"]["canonical_col"] == "attributes.profit"
    assert proposals["Profit"]["transform"] is None  # text: keeping a column never refuses a row

    fields = [p for p in proposals.values() if p["canonical_table"]]
    mapping = mapping_save(source=upload, fields=fields, user=executive)
    job = execution_run_now(source=upload, mapping=mapping, user=executive)

    assert job.status == "succeeded" and job.report["tables"]["canonical_orders"]["rejected"] == 0, job.report
    assert Order.objects.get(external_id="SO-3").attributes["profit"] == "n/v"
