"""A six-file marketplace dataset loads in any order to the same tables (issue 19, "Done when" item 2).

The Olist files of tests/data/olist6 (customers, orders, items, payments, products, sellers of the same 752 orders;
MANIFEST.toml) go through the product's real path, `ingest FILE --auto`: upload, profile, the proposer's mapping
(nothing hand-written), execution. Whatever the order of loading, the canonical tables hold the same rows, every
payment points at its order, and revenue per year is truth.json's (computed by truth.py with the csv module) to
the cent. Each order of loading runs in a transaction that is rolled back.
"""

from __future__ import annotations

import csv
import itertools
import json
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappings.services.ingest import ingest_file
from mappings.services.mapping import mapping_fields
from tests.canonical_state import loaded_then_rolled_back
from tests.data.olist6.truth import truth

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "data" / "olist6"
CUSTOMERS, ORDERS, ITEMS, PAYMENTS, PRODUCTS, SELLERS = (
    "olist_customers_dataset.csv",
    "olist_orders_dataset.csv",
    "olist_order_items_dataset.csv",
    "olist_order_payments_dataset.csv",
    "olist_products_dataset.csv",
    "olist_sellers_dataset.csv",
)
NATURAL = (CUSTOMERS, ORDERS, ITEMS, PAYMENTS, PRODUCTS, SELLERS)
TRUTH = json.loads((DATA / "truth.json").read_text())
# What the proposer makes of each file: the table its rows are, and what else it fills.
GRAIN = {
    CUSTOMERS: {"canonical_customers"},
    ORDERS: {"canonical_orders"},
    ITEMS: {"canonical_order_lines"},
    PAYMENTS: {"canonical_payments"},
    PRODUCTS: {"canonical_products"},
    SELLERS: {"canonical_suppliers"},
}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("olist6")
    for name in NATURAL:
        shutil.copy(DATA / name, folder / name)
    return folder


def _ingest_auto(folder: Path, order: tuple[str, ...]) -> None:
    for name in order:
        source, job = ingest_file(path=folder / name, user=None, auto=True)
        assert job.status == "succeeded", (name, job.report)
        assert job.report["rejected_rows"] == 0, (name, job.report["errors"][:3])
        assert set(job.report["tables"]) == GRAIN[name], (name, job.report["tables"])


def _load(folder: Path, order: tuple[str, ...]) -> dict:
    """Ingest the files in `order` with --auto, read what they made, and roll it all back."""
    return loaded_then_rolled_back(lambda: _ingest_auto(folder, order))


@pytest.fixture(scope="module")
def reference(files, django_db_setup, django_db_blocker) -> dict:
    """The tables of the natural order of loading (customers, orders, items, payments, products, sellers)."""
    with django_db_blocker.unblock():
        return _load(files, NATURAL)


def test_the_truth_is_what_truth_py_computes_from_the_files():
    assert truth() == TRUTH


def test_the_six_files_load_with_auto_to_exact_revenue_per_year_and_linked_payments(reference):
    tables, revenue = reference["tables"], reference["revenue"]

    assert revenue == {year: Decimal(total) for year, total in TRUTH["revenue_per_year"].items()}
    rows = TRUTH["rows"]
    assert len(tables["canonical_customers"]) == rows["customers"]
    assert len(tables["canonical_orders"]) == rows["orders"]
    assert len(tables["canonical_order_lines"]) == rows["order_items"]
    assert len(tables["canonical_payments"]) == rows["payments"]
    assert len(tables["canonical_products"]) == rows["products"]
    assert len(tables["canonical_suppliers"]) == rows["sellers"]
    for name in ("canonical_customers", "canonical_orders", "canonical_products", "canonical_suppliers"):
        described = [r for r in tables[name].values() if r["at_grain"] and not r["is_placeholder"]]
        assert len(described) == len(tables[name]), f"{name}: rows no file at their grain described"
    # Every payment is linked to the order its file names, and each order's payments add up to the file's.
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in tables["canonical_payments"].values():
        assert payment["order_id"] == payment["external_id"].rsplit("-", 1)[0]
        paid[payment["order_id"]] += payment["amount"]
    assert paid == {order: Decimal(total) for order, total in TRUTH["payments_per_order"].items()}
    # The orders file's dates, not the items' shipping limits; each line's order and product resolved.
    purchased = {o["order_id"]: o["order_purchase_timestamp"][:10] for o in _rows(ORDERS)}
    assert {k: str(r["order_date"]) for k, r in tables["canonical_orders"].items()} == purchased
    assert all(r["source_id"] == ORDERS for r in tables["canonical_orders"].values())
    lines = tables["canonical_order_lines"].values()
    assert {(r["order_id"], r["product_id"], r["supplier_id"]) for r in lines} == {
        (i["order_id"], i["product_id"], i["seller_id"]) for i in _rows(ITEMS)
    }


def _rows(name: str) -> list[dict]:
    with open(DATA / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    "order",
    [
        pytest.param(tuple(reversed(NATURAL)), id="reverse"),
        pytest.param((ITEMS, PAYMENTS, SELLERS, PRODUCTS, ORDERS, CUSTOMERS), id="items-and-payments-first"),
    ],
)
def test_loading_in_another_order_gives_the_same_tables(files, reference, order):
    loaded = _load(files, order)

    assert loaded["revenue"] == reference["revenue"]
    for name, rows in reference["tables"].items():
        assert loaded["tables"][name] == rows, f"{name} differs when loaded in the order {order}"


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.sampled_from(list(itertools.permutations(NATURAL))))
def test_any_order_of_loading_gives_the_same_tables(files, reference, order):
    loaded = _load(files, order)

    assert loaded["revenue"] == reference["revenue"]
    for name, rows in reference["tables"].items():
        assert loaded["tables"][name] == rows, f"{name} differs when loaded in the order {order}"


def test_a_second_items_file_of_the_same_layout_reuses_every_target_the_first_ones_mapping_learned(tmp_path):
    """The olist6 items in two files of one layout: --auto on the second reuses the first's saved mapping whole,
    with the columns that have several targets (order_id: the line's order and, with order_item_id, its key)."""
    header, *items = (DATA / ITEMS).read_text(encoding="utf-8").splitlines()
    half = len(items) // 2
    first, second = tmp_path / "items-2017.csv", tmp_path / "items-2018.csv"
    first.write_text("\n".join([header, *items[:half]]) + "\n", encoding="utf-8")
    second.write_text("\n".join([header, *items[half:]]) + "\n", encoding="utf-8")
    mappings = []

    def load() -> None:
        for path in (first, second):
            source, job = ingest_file(path=path, user=None, auto=True)
            assert job.status == "succeeded", (path.name, job.report)
            assert job.report["rejected_rows"] == 0, (path.name, job.report["errors"][:3])
            mapping = source.mappings.get()  # read here: the load is rolled back
            mappings.append((mapping_fields(mapping), mapping.options))

    loaded = loaded_then_rolled_back(load)

    def targets(fields: list[dict]) -> set[tuple]:
        return {
            (f["source_col"], f["canonical_table"], f["canonical_col"], json.dumps(f["transform"], sort_keys=True))
            for f in fields
        }

    (fresh, fresh_options), (learned, learned_options) = mappings
    assert targets(learned) == targets(fresh)
    assert learned_options.get("grain") == fresh_options.get("grain")
    key = next(f for f in learned if f["canonical_col"] == "external_id")
    assert key["canonical_table"] == "canonical_order_lines" and key["reason"].startswith("mapped before by users")
    lines = loaded["tables"]["canonical_order_lines"]
    assert set(lines) == {f"{row['order_id']}-{row['order_item_id']}" for row in _rows(ITEMS)}
