"""The reference measurements work on what the generator wrote, on real PostgreSQL (timings not asserted)."""

from __future__ import annotations

import csv
from decimal import Decimal

import psycopg
import pytest
from django.db import connection
from psycopg.conninfo import make_conninfo

from bench import references as refs
from bench.generate import generate


@pytest.fixture
def conninfo(db):
    params = connection.get_connection_params()
    info = make_conninfo(**{k: v for k, v in params.items() if k in ("dbname", "user", "password", "host", "port")})
    yield info
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_ref CASCADE")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("refs"), orders=400, seed=11)


def _file_total(path) -> Decimal:
    with path.open(newline="", encoding="utf-8") as fh:
        return sum((Decimal(r["Total"]) for r in csv.DictReader(fh)), Decimal(0))


def test_reference_tables_hold_every_generated_order_with_its_references_resolved(conninfo, files):
    refs.reference_schema_create(conninfo)
    loaded = refs.reference_tables_load(conninfo, files)
    assert (loaded["orders"], loaded["lines"]) == (400, sum(1 for _ in files["order_lines.csv"].open()) - 1)
    with psycopg.connect(conninfo) as conn:
        unresolved = conn.execute(
            "SELECT count(*) FROM bench_ref.orders WHERE customer_id IS NULL OR sales_rep_id IS NULL"
        ).fetchone()[0]
        total = conn.execute("SELECT sum(amount) FROM bench_ref.orders").fetchone()[0]
    assert unresolved == 0
    assert total == _file_total(files["orders.csv"])


def test_group_by_reference_reads_a_managers_scope_and_everything(conninfo, files):
    refs.reference_schema_create(conninfo)
    refs.reference_tables_load(conninfo, files)
    manager, executive = refs.ref_groupby_base_tables(conninfo, samples=3, all_runs=1)
    assert manager["key"] == "groupby_manager" and manager["unit"] == "ms p95" and manager["p50"] > 0
    assert "orders in scope" in manager["notes"]
    assert executive["key"] == "groupby_all"


def test_refresh_reference_builds_and_refreshes_both_views(conninfo, files):
    refs.reference_schema_create(conninfo)
    refs.reference_tables_load(conninfo, files)
    rows = refs.ref_refresh_materialized_views(conninfo, runs=1)
    assert [r["key"] for r in rows] == [
        "refresh_mv_monthly_revenue",
        "refresh_mv_top_customers",
        "refresh_mv_top_customers_concurrently",
    ]
    with psycopg.connect(conninfo) as conn:
        revenue = conn.execute("SELECT sum(revenue) FROM bench_ref.mv_monthly_revenue").fetchone()[0]
    # Lines are rounded to cents in the file; the view sums the unrounded products.
    assert abs(revenue - _file_total(files["orders.csv"])) < Decimal("0.01") * 400 * 4


def test_copy_reference_loads_the_whole_orders_file(conninfo, files):
    refs.reference_schema_create(conninfo)
    row = refs.ref_psql_copy(conninfo, files["orders.csv"], runs=2)
    assert (row["key"], row["rows"], row["unit"]) == ("copy", 400, "rows/s")
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT count(*) FROM bench_ref.orders_copy").fetchone()[0] == 400


def test_duckdb_scan_reference_counts_every_row(files):
    row = refs.ref_duckdb_scan(files["orders.csv"], runs=1)
    assert row["topic"] == "profile" and row["notes"].startswith("400 rows")
