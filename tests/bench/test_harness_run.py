"""A real harness run at tiny scale: a benchmark that crashes leaves the harness able to run the next one.

`python -m bench.run --fail-in bench.ingest` makes the ingest benchmark die as a crashed benchmark does
(its database connection left inside a transaction the server aborted); the KPI benchmark that runs
after it must still measure, on the same real PostgreSQL, and the failed rows must show the error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bench.database import server_url, with_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_database():
    name = f"test_ll_bench_harness_{os.getpid()}"
    yield name
    with psycopg.connect(with_database(server_url(), "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _table_rows(stdout: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        for line in stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| row ") and not line.startswith("| phase ")
    ]


def test_a_crashed_benchmark_shows_its_error_and_the_next_benchmark_still_measures(bench_database, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scale", "2000", "--quick", "--no-write",
         "--only", "ingest,reingest,kpi_read", "--fail-in", "bench.ingest",
         "--data-dir", str(tmp_path), "--database", bench_database],
        cwd=ROOT, env=dict(os.environ, BENCH_FAIL_IN=""), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = _table_rows(result.stdout)
    ingest = [r for r in rows if r[1] == "bench.ingest.run_ingest_bench"]
    assert len(ingest) == 2, result.stdout  # the ingest and the re-ingest rows
    for row in ingest:
        assert row[2].startswith("error: RuntimeError: forced failure (--fail-in bench.ingest)")
    reads = [r for r in rows if "via kpi_rows_for_user" in r[1]]
    assert reads, result.stdout
    for row in reads:
        assert row[2].endswith("ms p95") and not row[2].startswith("error"), row
    # The references measured beside it are there too, and the phase table says where the time went.
    assert any(r[1].startswith("reference: psql \\copy") or r[1].startswith("reference: COPY") for r in rows)
    assert "| ours: bench.ingest |" in result.stdout and "| ours: bench.kpi |" in result.stdout


def test_incremental_rows_can_take_their_full_refresh_from_the_all_views_refresh(bench_database, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scale", "2000", "--quick", "--no-write", "--only", "refresh",
         "--references", "skip", "--kpi-full-from", "all-views",
         "--data-dir", str(tmp_path), "--database", bench_database],
        cwd=ROOT, env=dict(os.environ, BENCH_FAIL_IN=""), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    ratios = [r for r in _table_rows(result.stdout) if "incremental after +1%" in r[1]]
    assert len(ratios) >= 5, result.stdout
    for row in ratios:
        notes = row[-1]
        assert notes.startswith("identical to full"), row
        assert "from this run's all-views refresh (before the append)" in notes, row
        assert "the check's full refresh of the view after it" in notes, row
    assert "references not measured in this run (--references skip)" in result.stdout
