"""The benchmark generator: same seed → byte-identical files; the files hold together like real exports."""

from __future__ import annotations

import csv
import filecmp
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from bench.generate import FILES, HEADERS, Scale, generate, generate_cached, read_manifest, write_sized_orders

ORDERS = 3000


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, list[dict[str, str]]]:
    out = tmp_path_factory.mktemp("seed7")
    paths = generate(out, orders=ORDERS, seed=7)
    return {name: _rows(path) for name, path in paths.items()} | {"_dir": out}


def test_same_seed_gives_byte_identical_files(generated, tmp_path):
    generate(tmp_path, orders=ORDERS, seed=7)
    for name in FILES:
        assert filecmp.cmp(generated["_dir"] / name, tmp_path / name, shallow=False), name


def test_different_seed_gives_different_data(generated, tmp_path):
    generate(tmp_path, orders=ORDERS, seed=8)
    for name in ("customers.csv", "orders.csv", "order_lines.csv", "invoices.csv", "expenses.csv"):
        assert (generated["_dir"] / name).read_bytes() != (tmp_path / name).read_bytes(), name


def test_files_have_the_export_headers(generated):
    for name in FILES:
        with (generated["_dir"] / name).open(newline="", encoding="utf-8") as fh:
            assert next(csv.reader(fh)) == HEADERS[name]


def test_row_counts_follow_the_scale_and_match_the_manifest(generated):
    scale = Scale.for_orders(ORDERS)
    manifest = read_manifest(generated["_dir"])
    assert manifest["seed"] == 7
    assert {name: len(generated[name]) for name in FILES} == manifest["rows"]
    assert len(generated["orders.csv"]) == ORDERS
    assert len(generated["customers.csv"]) == scale.customers
    assert len(generated["products.csv"]) == scale.products
    assert len(generated["employees.csv"]) == scale.employees
    assert len(generated["expenses.csv"]) == scale.expenses
    # 1 to 4 lines per order; an invoice per shipped order; at most one payment per invoice.
    assert ORDERS <= len(generated["order_lines.csv"]) <= 4 * ORDERS
    assert 0.7 * ORDERS < len(generated["invoices.csv"]) < ORDERS
    assert len(generated["payments.csv"]) <= len(generated["invoices.csv"])


def test_identifiers_are_unique(generated):
    for name, key in [
        ("employees.csv", "Employee ID"),
        ("customers.csv", "Customer ID"),
        ("products.csv", "SKU"),
        ("orders.csv", "Order ID"),
        ("invoices.csv", "Invoice Number"),
        ("payments.csv", "Payment ID"),
        ("expenses.csv", "Expense ID"),
    ]:
        ids = [r[key] for r in generated[name]]
        assert len(ids) == len(set(ids)), name
    line_keys = [(r["Order ID"], r["Line No"]) for r in generated["order_lines.csv"]]
    assert len(line_keys) == len(set(line_keys))


def test_every_reference_points_at_a_generated_row(generated):
    ids = {
        "employees": {r["Employee ID"] for r in generated["employees.csv"]},
        "customers": {r["Customer ID"] for r in generated["customers.csv"]},
        "products": {r["SKU"] for r in generated["products.csv"]},
        "orders": {r["Order ID"] for r in generated["orders.csv"]},
        "invoices": {r["Invoice Number"] for r in generated["invoices.csv"]},
    }
    references = [
        ("customers.csv", "Account Owner", "employees"),
        ("orders.csv", "Customer ID", "customers"),
        ("orders.csv", "Sales Rep ID", "employees"),
        ("order_lines.csv", "Order ID", "orders"),
        ("order_lines.csv", "SKU", "products"),
        ("invoices.csv", "Order ID", "orders"),
        ("invoices.csv", "Customer ID", "customers"),
        ("payments.csv", "Invoice Number", "invoices"),
        ("payments.csv", "Customer ID", "customers"),
        ("expenses.csv", "Employee ID", "employees"),
    ]
    for name, column, target in references:
        dangling = {r[column] for r in generated[name]} - ids[target]
        assert not dangling, f"{name}.{column} → {target}: {sorted(dangling)[:5]}"


def test_employees_form_one_tree_with_managers_over_reps(generated):
    boss = {r["Employee ID"]: r["Reports To"] for r in generated["employees.csv"]}
    roots = [e for e, b in boss.items() if not b]
    assert roots == ["E00001"]
    for employee in boss:
        seen, e = set(), employee
        while boss[e]:
            assert e not in seen, f"cycle through {employee}"
            seen.add(e)
            e = boss[e]
        assert e == "E00001"
    titles = Counter(r["Title"] for r in generated["employees.csv"])
    assert titles["Sales Manager"] >= 3 and titles["Sales Representative"] > titles["Sales Manager"]
    # Every rep reports to a sales manager, so a manager's scope is a real subtree of reps.
    title = {r["Employee ID"]: r["Title"] for r in generated["employees.csv"]}
    assert {title[boss[e]] for e, t in title.items() if t == "Sales Representative"} == {"Sales Manager"}


def test_order_totals_add_up_from_their_lines_and_invoices_match(generated):
    line_sum: dict[str, Decimal] = defaultdict(Decimal)
    for line in generated["order_lines.csv"]:
        line_sum[line["Order ID"]] += Decimal(line["Line Total"])
        expected = Decimal(line["Quantity"]) * Decimal(line["Unit Price"]) * (1 - Decimal(line["Discount"]))
        assert abs(Decimal(line["Line Total"]) - expected) <= Decimal("0.005")
    totals = {o["Order ID"]: Decimal(o["Total"]) for o in generated["orders.csv"]}
    assert totals == dict(line_sum)
    for invoice in generated["invoices.csv"]:
        assert Decimal(invoice["Amount"]) == totals[invoice["Order ID"]]
        assert Decimal(invoice["Amount Paid"]) <= Decimal(invoice["Amount"])
        assert (invoice["Paid"] == "yes") == (invoice["Status"] == "paid")


def test_order_dates_rise_with_the_order_number(generated):
    dates = [o["Order Date"] for o in generated["orders.csv"]]
    assert dates[0] < dates[len(dates) // 2] < dates[-1]
    assert dates[0].startswith("2021-") and dates[-1].startswith("2025-")


def test_generate_cached_reuses_matching_files_and_regenerates_otherwise(tmp_path):
    generate(tmp_path, orders=500, seed=1)
    orders = tmp_path / "orders.csv"
    orders.write_text("touched\n")
    generate_cached(tmp_path, orders=500, seed=1)
    assert orders.read_text() == "touched\n"  # reused as is
    generate_cached(tmp_path, orders=500, seed=2)
    assert orders.read_text().startswith("Order ID,")
    assert read_manifest(tmp_path)["seed"] == 2


def test_write_sized_orders_reaches_the_size_deterministically(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    rows = write_sized_orders(first, target_bytes=300_000, seed=3)
    assert write_sized_orders(second, target_bytes=300_000, seed=3) == rows
    assert first.stat().st_size >= 300_000
    assert first.read_bytes() == second.read_bytes()
    assert len(_rows(first)) == rows
