"""`--reuse-data`: a prepared bench database is reused while its stamp and row counts match, prepared again
otherwise, and what a run adds on top of it (the KPI benchmark's +1% append) is undone by the next run.

Real harness runs at 2,000 orders on the real PostgreSQL server, each in its own process, as a user runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bench import generate as gen
from bench import prepared, run
from bench.database import database_name, server_url, with_database

ROOT = Path(__file__).resolve().parents[2]
SCALE = 2000


@pytest.fixture
def bench_url():
    name = f"test_ll_bench_reuse_{os.getpid()}"
    url = with_database(server_url(), name)
    yield url
    with psycopg.connect(with_database(server_url(), "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _harness(url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    database = database_name(url)
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scale", str(SCALE), "--quick", "--no-write",
         "--data-dir", str(data_dir), "--database", database, *args],
        cwd=ROOT, env=dict(os.environ, BENCH_FAIL_IN=""), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _phases(stdout: str) -> dict[str, str]:
    """Phase name → its notes, from the phase table the harness prints."""
    out = {}
    for line in stdout.split("Where the run's time went:")[-1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("phase", "---", "**total**"):
            out[cells[0]] = cells[4]
    return out


def _indexes(url: str) -> set[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return set(
            conn.execute("SELECT tablename, indexdef FROM pg_indexes WHERE tablename LIKE 'canonical\\_%'").fetchall()
        )


def test_a_stamp_serves_only_its_own_scale_seed_and_versions():
    stamp = prepared.Stamp(scale=1000, seed=42, loaded=["bench_ref", "canonical"])
    assert stamp.matches(scale=1000, seed=42, needs={"bench_ref", "canonical"}) == ""
    assert stamp.matches(scale=2000, seed=42, needs=set()) == "prepared for 1,000 orders, seed 42"
    assert stamp.matches(scale=1000, seed=7, needs=set()) == "prepared for 1,000 orders, seed 42"
    older = prepared.Stamp(scale=1000, seed=42, generator_version=gen.GENERATOR_VERSION - 1)
    assert older.matches(scale=1000, seed=42, needs=set()).startswith("generator version")
    stale = prepared.Stamp(scale=1000, seed=42, preparation_version=prepared.PREPARATION_VERSION - 1)
    assert stale.matches(scale=1000, seed=42, needs=set()).startswith("preparation version")
    partial = prepared.Stamp(scale=1000, seed=42, loaded=["bench_ref"])
    assert partial.matches(scale=1000, seed=42, needs={"bench_ref", "canonical"}) == "canonical not loaded"


def test_reusing_data_refuses_the_ingest_rows_which_would_empty_it(capsys):
    assert run.main(["--scale", "2000", "--reuse-data", "--only", "ingest,kpi_read"]) == 2
    assert "the ingest rows empty canonical_orders" in capsys.readouterr().err


@pytest.mark.django_db
def test_prepared_data_is_reused_until_it_no_longer_matches(bench_url, tmp_path):
    # First run: nothing prepared, so the database is created, loaded, filled and stamped.
    first = _phases(_harness(bench_url, tmp_path, "--prepare-only").stdout)
    assert first["database: create + migrate"] == "created (no prepared data)"
    assert "load reference base tables (bench_ref)" in first
    assert first["fill canonical_* from bench_ref (keeps ingested rows)"].startswith(
        "copied with bench_ref's ids (every table was empty)"
    )
    stamp = prepared.read_stamp(bench_url)
    assert (stamp.scale, stamp.seed, stamp.loaded) == (SCALE, 42, ["bench_ref", "canonical"])
    assert stamp.counts["canonical_orders"] == stamp.counts["bench_ref.orders"] == SCALE
    # The fill dropped and rebuilt the indexes and unique constraints: the same ones the migrations made.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexdef FROM pg_indexes WHERE tablename LIKE 'canonical\\_%%'")
        assert _indexes(bench_url) == set(cursor.fetchall())

    # Second run measures on the same data: no load, no fill; the KPI row appends its +1% of orders.
    second = _harness(bench_url, tmp_path, "--reuse-data", "--only", "kpi_read,refresh", "--references", "skip")
    phases = _phases(second.stdout)
    assert phases["database: create + migrate"] == f"reused data prepared {stamp.prepared_at}"
    assert phases["reused data: undo earlier runs, check row counts"].endswith("row counts as stamped")
    assert "load reference base tables (bench_ref)" not in phases and "reference schema" not in phases
    assert not any(name.startswith("fill canonical_*") or name.startswith("reference:") for name in phases)
    assert "ours: bench.kpi" in phases
    assert "monthly_revenue: incremental after +1% (20 orders) vs full" in second.stdout
    assert "references not measured in this run (--references skip)" in second.stdout

    # Third run undoes that append and finds the stamped counts again.
    third = _phases(_harness(bench_url, tmp_path, "--prepare-only").stdout)
    assert third["database: create + migrate"] == f"reused data prepared {stamp.prepared_at}"
    undone = third["reused data: undo earlier runs, check row counts"]
    assert "20 canonical_orders" in undone and undone.endswith("from earlier runs; row counts as stamped")

    # Rows lost from the prepared data: it no longer matches its stamp, so it is prepared again.
    with psycopg.connect(bench_url) as conn:
        conn.execute("DELETE FROM canonical_order_lines WHERE id IN (SELECT id FROM canonical_order_lines LIMIT 5)")
    fourth = _phases(_harness(bench_url, tmp_path, "--prepare-only").stdout)
    assert (
        "counts differ from the stamp: canonical_order_lines"
        in fourth["reused data: undo earlier runs, check row counts"]
    )
    assert "database: create + migrate again (prepared data changed)" in fourth
    assert "load reference base tables (bench_ref)" in fourth
    assert prepared.check_counts(bench_url, prepared.read_stamp(bench_url)) == ""

    # Another scale: not reused.
    other = _phases(_harness(bench_url, tmp_path, "--prepare-only", "--scale", "1000").stdout)
    assert other["database: create + migrate"] == "created (prepared for 2,000 orders, seed 42)"
