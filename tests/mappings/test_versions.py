"""A new mapping version replaces the old one for its upload (docs/TRANSFORMS.md): executing it leaves the rows the
upload wrote as if only that version had ever run; rows other uploads wrote keep their values. The difference
between two versions and the restore of an older one, for the review page."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction

from canonical.models import Order, OrderLine
from mappings.models import Mapping
from mappings.services.execute import execution_run_now
from mappings.services.mapping import MappingInvalid, mapping_fields, mapping_version_diff, mapping_version_restore
from tests.mappings.helpers import field, run, save, upload_text

pytestmark = pytest.mark.django_db

LINES = "canonical_order_lines"
LINES_CSV = (
    "order,date,product,qty,price,discount,note\n"
    "A,2024-01-05,P1,2,100.00,0.10,x\n"
    "A,2024-01-05,P2,1,50.00,0.20,y\n"
    "B,2024-02-10,P1,4,25.00,0.25,z\n"
)
OTHER_CSV = "order,date,product,qty,price,discount\nC,2024-02-11,P3,1,80.00,0.50\n"
V1 = [
    field("order", "canonical_orders", "external_id"),
    field("date", "canonical_orders", "order_date"),
    field("order", LINES, "order_id"),
    field("product", LINES, "product_id"),
    field("qty", LINES, "quantity"),
    field("price", LINES, "unit_price"),
    field("discount", LINES, "discount"),
]
V3 = [f for f in V1 if f["source_col"] != "discount"]


def revenue() -> Decimal:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(revenue), 0) FROM kpi_order_revenue")
        return cursor.fetchone()[0]


def test_dropping_the_discount_in_v3_gives_the_revenue_v3_alone_gives(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    other = upload_text(tmp_path, OTHER_CSV, name="other.csv")
    run(other, V1)
    run(lines, V1)
    save(lines, V1)  # v2: the same, saved again
    assert revenue() == Decimal("180.00") + Decimal("40.00") + Decimal("75.00") + Decimal("40.00")

    job = run(lines, V3)

    assert job.status == "succeeded", job.report
    assert revenue() == Decimal("200.00") + Decimal("50.00") + Decimal("100.00") + Decimal("40.00")
    assert set(OrderLine.objects.filter(source=lines).values_list("discount", flat=True)) == {Decimal("0")}
    # Another upload's lines keep their discount.
    assert OrderLine.objects.get(source=other).discount == Decimal("0.5000")
    assert job.report["cleared"] == {LINES: {"columns": ["discount"], "rows": 3}}
    assert sorted(job.report["touched"][LINES]["months"]) == ["2024-01-01", "2024-02-01"]
    assert any("discount no longer mapped: emptied on 3 rows" in w for w in job.report["warnings"])

    alone = {}
    try:
        with transaction.atomic():
            OrderLine.objects.filter(source=lines).delete()
            Order.objects.filter(source=lines).delete()
            execution_run_now(source=lines, user=None)
            alone["revenue"] = revenue()
            raise RuntimeError
    except RuntimeError:
        pass
    assert revenue() == alone["revenue"]


def test_re_running_the_new_version_changes_nothing(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    run(lines, V1)
    run(lines, V3)

    again = execution_run_now(source=lines, user=None)

    assert again.report["cleared"] == {LINES: {"columns": ["discount"], "rows": 0}}
    assert all(t["updated"] == 0 and t["inserted"] == 0 for t in again.report["tables"].values())


def test_a_column_no_mapping_version_loaded_is_never_emptied(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    save(lines, V1)  # v1 saved, never executed
    job = run(lines, V3)

    assert "cleared" not in job.report


def test_a_version_that_no_longer_writes_a_table_empties_its_columns_on_the_rows_of_the_upload(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    with_status = [*V1, field("note", "canonical_orders", "status")]
    run(lines, with_status)
    assert set(Order.objects.values_list("status", flat=True)) == {"y", "z"}

    job = run(lines, V1)

    assert set(Order.objects.values_list("status", flat=True)) == {""}
    assert job.report["cleared"]["canonical_orders"] == {"columns": ["status"], "rows": 2}


def test_the_difference_between_two_versions_names_added_removed_and_changed_columns(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    v1 = save(lines, V1)
    v2 = save(
        lines,
        [
            *[f for f in V3 if f["canonical_col"] != "unit_price"],
            field("price", LINES, "unit_price", [{"op": "parse_number", "locale": "de"}]),
            field("note", "canonical_orders", "status"),
        ],
        options={"all_or_nothing": True},
    )

    diff = mapping_version_diff(mapping_a=v1, mapping_b=v2)

    assert [e["target"] for e in diff["added"]] == ["canonical_orders.status"]
    assert [e["target"] for e in diff["removed"]] == [f"{LINES}.discount"]
    assert diff["removed"][0]["source_col"] == "discount" and diff["removed"][0]["transform"] is None
    (changed,) = diff["changed"]
    assert changed["target"] == f"{LINES}.unit_price"
    assert changed["after"]["transform"] == [{"op": "parse_number", "locale": "de"}]
    assert diff["options"] == [{"option": "all_or_nothing", "before": False, "after": True}]
    unchanged = mapping_version_diff(mapping_a=v1, mapping_b=v1)
    assert unchanged == {"added": [], "removed": [], "changed": [], "options": [], "same": True}


def test_a_column_the_options_drop_counts_as_removed(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    v1 = save(lines, V1)
    v2 = save(lines, V1, options={"drop_columns": ["discount"]})

    diff = mapping_version_diff(mapping_a=v1, mapping_b=v2)

    assert [e["target"] for e in diff["removed"]] == [f"{LINES}.discount"]


def test_two_uploads_mappings_cannot_be_compared(db, tmp_path):
    a = save(upload_text(tmp_path, LINES_CSV, name="a.csv"), V1)
    b = save(upload_text(tmp_path, LINES_CSV, name="b.csv"), V1)

    with pytest.raises(ValueError, match="same upload"):
        mapping_version_diff(mapping_a=a, mapping_b=b)


def test_restoring_an_older_version_saves_it_again_as_the_next_version(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    v1 = save(lines, V1, options={"all_or_nothing": True})
    save(lines, V3)

    restored = mapping_version_restore(source=lines, version=1)

    assert restored.version == 3 and restored.note == "restored from v1"
    assert mapping_fields(restored) == mapping_fields(v1)
    assert restored.options == v1.options
    assert mapping_version_diff(mapping_a=v1, mapping_b=restored)["removed"] == []
    assert Mapping.objects.filter(source=lines).count() == 3
    job = execution_run_now(source=lines, user=None)
    assert job.status == "succeeded" and OrderLine.objects.filter(discount__gt=0).count() == 3


def test_restoring_an_unknown_version_or_one_the_file_no_longer_fits_is_refused(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    save(lines, V1)
    with pytest.raises(Mapping.DoesNotExist):
        mapping_version_restore(source=lines, version=7)
    old = save(lines, V1)
    old.fields.filter(source_col="discount").update(source_col="vanished")
    with pytest.raises(MappingInvalid, match="vanished"):
        mapping_version_restore(source=lines, version=old.version)


SUPERSTORE = Path(__file__).resolve().parents[1] / "data" / "real" / "superstore_dayfirst.csv"
# Issue 19's case: the line total given as the unit price of one unit, with the discount mapped beside it (v1);
# v3 drops the discount, which the total already has.
SUPERSTORE_V1 = [
    field("Order ID", "canonical_orders", "external_id"),
    field("Order Date", "canonical_orders", "order_date", [{"op": "parse_date", "format": "%d/%m/%y"}]),
    field("Row ID", LINES, "external_id"),
    field("Order ID", LINES, "order_id"),
    field("Product ID", LINES, "product_id"),
    field("Sales", LINES, "unit_price", [{"op": "parse_number", "locale": "en"}]),
    field(None, LINES, "quantity", [{"op": "constant", "value": 1}]),
    field("Discount", LINES, "discount", [{"op": "parse_number", "locale": "en"}]),
]


def revenue_per_year() -> dict[str, Decimal]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extract(year FROM order_date)::int, sum(revenue) FROM kpi_order_revenue GROUP BY 1")
        return dict(cursor.fetchall())


def superstore_sales_per_year() -> dict[int, Decimal]:
    """Each line's Sales as a money value (rounded to the cent: the unit price's column) in its order's year."""
    years: dict[int, Decimal] = {}
    with open(SUPERSTORE, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            year = 2000 + int(row["Order Date"][-2:])
            cents = Decimal(row["Sales"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            years[year] = years.get(year, Decimal(0)) + cents
    return years


def test_the_real_superstore_file_gets_its_revenue_back_when_v3_drops_the_discount(db, tmp_path):
    source = upload_text(tmp_path, SUPERSTORE.read_bytes().decode("utf-8-sig"), name="superstore.csv")
    run(source, SUPERSTORE_V1)
    discounted = revenue_per_year()

    job = run(source, [f for f in SUPERSTORE_V1 if f["source_col"] != "Discount"])

    assert job.status == "succeeded", job.report
    assert revenue_per_year() == superstore_sales_per_year()
    # Within a cent per line of the truth file's exact sums (truth/superstore_dayfirst.csv.json).
    truth = json.loads((SUPERSTORE.parent / "truth" / "superstore_dayfirst.csv.json").read_text())
    for year, total in truth["revenue_per_year"].items():
        assert abs(revenue_per_year()[int(year)] - Decimal(total)) < Decimal("0.01") * truth["lines_per_year"][year]
    assert all(discounted[year] < total for year, total in revenue_per_year().items())


def test_an_attribute_the_new_version_no_longer_keeps_leaves_only_this_uploads_rows(db, tmp_path):
    lines = upload_text(tmp_path, LINES_CSV, name="lines.csv")
    other = upload_text(tmp_path, OTHER_CSV.replace("discount\n", "discount,note\n").replace("0.50\n", "0.50,w\n"))
    keep_note = [*V1, field("note", LINES, "attributes.note")]
    run(other, keep_note)
    run(lines, keep_note)
    assert sorted(OrderLine.objects.filter(source=lines).values_list("attributes", flat=True), key=str) == [
        {"note": "x"},
        {"note": "y"},
        {"note": "z"},
    ]

    job = run(lines, V1)

    assert job.status == "succeeded", job.report
    assert list(OrderLine.objects.filter(source=lines).values_list("attributes", flat=True)) == [{}, {}, {}]
    assert OrderLine.objects.get(source=other).attributes == {"note": "w"}
    assert job.report["cleared"] == {LINES: {"columns": ["attributes.note"], "rows": 3}}
    rerun = run(lines, V1)
    assert rerun.report["cleared"] == {LINES: {"columns": ["attributes.note"], "rows": 0}}
    assert OrderLine.objects.get(source=other).attributes == {"note": "w"}
