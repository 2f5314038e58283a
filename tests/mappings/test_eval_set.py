"""The evaluation set (tests/data/eval/) and the Northwind files, proposed and checked end to end."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import F, Sum

from bench.mapping_accuracy import evaluate, run_mapping_accuracy
from canonical.models import Customer, Employee, Order, OrderLine, Product, Supplier
from mappings.services.execute import execution_run_now
from mappings.services.mapping import mapping_save
from mappings.services.propose import mapping_propose
from tests.mappings.conftest import NORTHWIND


def test_offline_proposals_get_at_least_90_percent_of_the_evaluation_set_right(db):
    results = evaluate()
    total = sum(r["columns"] for r in results)
    right = sum(r["ours"]["right"] for r in results)
    wrong = [f"{r['file']}: {w}" for r in results for w in r["ours"]["wrong"]]
    assert right / total >= 0.9, "\n".join(wrong)
    assert sum(r["ours"]["confident_wrong"] for r in results) <= 0.03 * total, "\n".join(wrong)


def test_proposals_beat_the_header_exact_baseline_on_the_dev_and_the_held_out_set(db):
    dev_accuracy, dev_confident_wrong, held_accuracy, held_confident_wrong = run_mapping_accuracy()
    for accuracy, confident_wrong in ((dev_accuracy, dev_confident_wrong), (held_accuracy, held_confident_wrong)):
        assert accuracy["ours"] > accuracy["reference_value"]
        assert confident_wrong["ours"] < confident_wrong["reference_value"]
    assert "dev set" in dev_accuracy["what"] and "held-out set (15 files, 187 columns" in held_accuracy["what"]


def test_the_held_out_set_was_written_from_documentation_with_a_source_per_file():
    import json

    from bench.mapping_accuracy import HOLDOUT_DIR

    expected = json.loads((HOLDOUT_DIR / "expected.json").read_text())
    assert len(expected) >= 15 and sum(len(f["columns"]) for f in expected.values()) >= 150
    assert all(f["source"] for f in expected.values())
    assert not set(expected) & set(json.loads((HOLDOUT_DIR.parent / "eval" / "expected.json").read_text()))


@pytest.mark.django_db
def test_northwind_files_load_with_the_proposed_mappings_unedited(executive, upload_of):
    """A new user uploads each Northwind file, saves the proposals as they are and executes them; where
    the page says rows have more fields than the header (unquoted commas in addresses), they choose to
    load those best-effort (the review page's option)."""
    for name in ("employees.csv", "customers.csv", "suppliers.csv", "products.csv", "orders.csv", "order-details.csv"):
        source = upload_of(NORTHWIND / name, executive)
        proposals = mapping_propose(source=source, user=executive)["proposals"]
        fields = [p for p in proposals if p["canonical_table"]]
        ragged = source.dialect["ragged"]
        assert ragged is None or ragged["repairable"] == ragged["rows"], ragged
        options = {"ragged_rows": "repair"} if ragged else None
        mapping = mapping_save(source=source, fields=fields, options=options, user=executive)
        job = execution_run_now(source=source, mapping=mapping, user=executive)
        assert job.status == "succeeded", (name, job.error, job.report.get("errors"))
        rejected = sum(t["rejected"] for t in job.report["tables"].values())
        assert rejected == 0, (name, job.report.get("errors"))

    assert Employee.objects.filter(is_placeholder=False).count() == 9
    assert Customer.objects.filter(is_placeholder=False).count() == 91
    assert Supplier.objects.filter(is_placeholder=False).count() == 29
    assert Product.objects.filter(is_placeholder=False).count() == 77
    assert Order.objects.count() == 830
    assert OrderLine.objects.count() == 2155
    revenue = OrderLine.objects.aggregate(r=Sum(F("unit_price") * F("quantity") * (1 - F("discount"))))["r"]
    assert round(Decimal(revenue), 2) == Decimal("1265793.04")
    buchanan = Employee.objects.get(external_id="5", is_placeholder=False)
    assert buchanan.name == "Steven Buchanan"
    assert buchanan.manager.external_id == "2"
    assert Employee.objects.get(external_id="2").manager is None


@pytest.mark.django_db
def test_northwind_rows_with_an_unquoted_comma_are_rejected_with_the_reason_unless_the_user_chooses(
    executive, upload_of
):
    source = upload_of(NORTHWIND / "customers.csv", executive)
    fields = [p for p in mapping_propose(source=source, user=executive)["proposals"] if p["canonical_table"]]
    mapping = mapping_save(source=source, fields=fields, options=None, user=executive)

    job = execution_run_now(source=source, mapping=mapping, user=executive)

    assert job.report["tables"]["canonical_customers"]["rejected"] == 24
    rejected = job.rejected_rows.order_by("source_row")
    assert [r.source_row for r in rejected[:10]] == source.dialect["ragged"]["examples"]
    assert rejected[0].reason == "the row has 12 fields, the header 11: a value holds the delimiter without quotes"
    assert Customer.objects.filter(is_placeholder=False).count() == 91 - 24
    assert not Customer.objects.filter(country__in=["67000", "28023"]).exists()  # no postal code as a country
