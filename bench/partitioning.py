"""Monthly partitioning of canonical_orders and canonical_order_lines beside the plain tables (issue 21, item 6):
the ingest and the KPI refresh, interleaved, medians of `--runs`.

    python -m bench.partitioning --scale 1000000 --runs 3 [--append-to bench/RESULTS-scaleout.md] [--keep]

Scratch databases on the server DATABASE_URL names, all named `<prefix>*` (default ll_4_part) and dropped at the
end unless --keep: `<prefix>_plain_tpl` is prepared by `bench.run --prepare-only` (bench_ref and canonical_* at
the scale); `<prefix>_monthly_tpl` is a copy of it converted by bench/sql/partition_monthly.sql (what the
conversion means for the schema is written at the top of that file); either is reused when it exists (--keep).
Each pass works on fresh copies of the two:

1. ingest: the orders file through the full mapping execution into an empty canonical_orders (bench.ingest:
   upload, save, execute; the first load takes the bulk path), then the same file again (every row unchanged).
2. KPI: a full refresh of every view (order facts built once, then each view), then +1% orders (with lines) in
   one month and the incremental refresh of each incremental view, summed; the appended rows are removed after.

Each step runs in a child process bound to one database; within a run the variant that goes first alternates.
The 10% rule (issue 21): partitioning is worth adopting only if it is not more than 10% slower on any of these
and faster on some. Printed, and appended to the results file with --append-to; never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = ROOT / "bench" / "sql"
VARIANTS = ("plain", "monthly")
APPEND_MONTH = "2025-01-01"


def _log(message: str) -> None:
    print(f"[bench.partitioning] {message}", file=sys.stderr, flush=True)


# --- child steps (Django bound to one database) ---------------------------------------------------------------


def _partitioned() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = 'canonical_orders'::regclass")
        return cursor.fetchone()[0]


def _step_ingest(orders_csv: Path) -> dict:
    from django.db import connection

    from bench.ingest import run_ingest_bench

    with connection.cursor() as cursor:  # the same empty tables in both (no foreign key cascades in the other)
        cursor.execute("TRUNCATE canonical_order_lines, canonical_invoices, canonical_payments, canonical_orders")
    first, again = run_ingest_bench(orders_csv, runs=1)
    return {
        "ingest_s": first["seconds"],
        "reingest_s": again["value"],
        "ingest_steps_ms": first["timings_ms"],
        "reingest_steps_ms": again["timings_ms"],
        "partitioned": _partitioned(),
    }


def _lines_dated(cursor) -> None:
    """Lines written without the partition key (the engine and the scripts do not know it) moved to their month."""
    cursor.execute(
        "UPDATE canonical_order_lines l SET order_date = o.order_date FROM canonical_orders o "
        "WHERE l.order_date IS NULL AND o.id = l.order_id AND o.order_date IS NOT NULL"
    )


def _step_kpi(scale: int, seed: int) -> dict:
    from django.db import connection, transaction

    from bench.kpi import _execute_script
    from dashboards.kpi.registry import public_views
    from dashboards.models import KpiPendingRefresh
    from dashboards.services.refresh import kpi_bases_rebuild, kpi_refresh_mark_touched, kpi_view_refresh
    from mappings.models import DataSource

    partitioned = _partitioned()
    views = public_views()
    start = time.perf_counter()
    full_ms = dict(kpi_bases_rebuild())
    for view in views:
        full_ms[view.name] = kpi_view_refresh(view_name=view.name, mode="full", rebuild_bases=False).duration_ms
    full_s = time.perf_counter() - start

    source, _ = DataSource.objects.get_or_create(
        sha256="bench-kpi-append", defaults={"name": "bench: +1% orders", "file_path": "", "domain": "orders"}
    )
    append = max(1, scale // 100)
    _execute_script(
        "kpi_append.sql", {"orders": append, "month": APPEND_MONTH, "seed": (seed + 1) / 1000, "source_id": source.pk}
    )
    if partitioned:
        with transaction.atomic(), connection.cursor() as cursor:
            _lines_dated(cursor)
    touched = {t: {"months": [APPEND_MONTH]} for t in ("canonical_orders", "canonical_order_lines")}
    kpi_refresh_mark_touched(touched=touched, source_id=source.pk)
    incremental = [v for v in views if v.strategy == "incremental" and set(touched) & set(v.depends_on)]
    inc_ms = {}
    start = time.perf_counter()
    for view in incremental:
        inc_ms[view.name] = kpi_view_refresh(view_name=view.name).duration_ms
    inc_s = time.perf_counter() - start
    KpiPendingRefresh.objects.all().delete()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM canonical_order_lines WHERE external_id LIKE 'KAL%%'")
        cursor.execute("DELETE FROM canonical_orders WHERE external_id LIKE 'KA%%'")
    return {
        "full_s": round(full_s, 2),
        "full_ms": full_ms,
        "incremental_s": round(inc_s, 2),
        "incremental_ms": inc_ms,
        "partitioned": partitioned,
    }


def _child(args: argparse.Namespace) -> int:
    from bench.database import server_url, setup_django, with_database

    setup_django(with_database(server_url(), args.database), migrate=False)
    result = _step_ingest(Path(args.orders_csv)) if args.child == "ingest" else _step_kpi(args.scale, args.seed)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# --- parent: databases, interleaving, table -------------------------------------------------------------------


def _admin(url: str) -> psycopg.Connection:
    from bench.database import with_database

    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def _copy_database(url: str, name: str, template: str) -> None:
    with _admin(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))


def _drop_databases(url: str, prefix: str) -> list[str]:
    with _admin(url) as conn:
        names = [
            r[0]
            for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "\\_%"]).fetchall()
        ]
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return names


def _exists(url: str, name: str) -> bool:
    with _admin(url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _prepare(url: str, prefix: str, scale: int, seed: int) -> None:
    """The two template databases, each made unless it is there already."""
    from bench.database import with_database

    plain, monthly = f"{prefix}_plain_tpl", f"{prefix}_monthly_tpl"
    if not _exists(url, plain):
        _log(f"preparing {plain} at {scale:,} orders (bench.run --prepare-only) …")
        subprocess.run(
            [sys.executable, "-m", "bench.run", "--scale", str(scale), "--seed", str(seed), "--prepare-only",
             "--database", plain],
            cwd=ROOT, check=True,
        )  # fmt: skip
    if not _exists(url, monthly):
        _log(f"copying {plain} to {monthly}, partitioning canonical_orders and canonical_order_lines by month …")
        _copy_database(url, monthly, plain)
        started = time.perf_counter()
        subprocess.run(
            ["psql", with_database(url, monthly), "-v", "ON_ERROR_STOP=1", "-q", "-f",
             str(SQL_DIR / "partition_monthly.sql")],
            check=True,
        )  # fmt: skip
        _log(f"partitioned in {time.perf_counter() - started:.0f} s")


def _run_child(step: str, database: str, args: argparse.Namespace, orders_csv: Path) -> dict:
    media = tempfile.mkdtemp(prefix="ll-bench-part-")
    env = dict(os.environ, MEDIA_ROOT=media, LOG_LEVEL="WARNING")
    load = os.getloadavg()[0]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.partitioning", "--child", step, "--database", database,
             "--scale", str(args.scale), "--seed", str(args.seed), "--orders-csv", str(orders_csv)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(media, ignore_errors=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{step} on {database} failed:\n{done.stdout[-2000:]}\n{done.stderr[-6000:]}")
    result = json.loads(lines[-1].removeprefix("RESULT "))
    result["load"] = (load + os.getloadavg()[0]) / 2
    return result


def _commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def _table(results: dict[str, dict[str, list[dict]]], runs: int) -> list[str]:
    rows = [
        ("ingest", "first load of the orders file (upload + save + execute, bulk path)", "ingest_s"),
        ("ingest", "re-ingest of the same file (every row unchanged)", "reingest_s"),
        ("kpi", "full refresh of every KPI view (order facts once, then each view)", "full_s"),
        ("kpi", "incremental refresh of the incremental views after +1% orders in one month", "incremental_s"),
    ]
    out = [
        "| step | plain (median) | monthly partitions (median) | monthly / plain | runs (plain; monthly) |",
        "|---|---|---|---|---|",
    ]
    for step, label, key in rows:
        if step not in results:
            continue
        plain = [r[key] for r in results[step]["plain"]]
        monthly = [r[key] for r in results[step]["monthly"]]
        p, m = statistics.median(plain), statistics.median(monthly)
        each = "; ".join(", ".join(f"{v:.1f}" for v in vs) for vs in (plain, monthly))
        out.append(f"| {label} | {p:.2f} s | {m:.2f} s | {m / p:.2f} | {each} s |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prefix", default="ll_4_part", help="scratch databases are named <prefix>_*")
    parser.add_argument("--keep", action="store_true", help="leave the scratch databases (default: dropped)")
    parser.add_argument("--only", choices=("ingest", "kpi"), help="one pass only")
    parser.add_argument("--append-to", type=Path, help="append the section to this results file")
    parser.add_argument("--child", choices=("ingest", "kpi"), help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--orders-csv", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)

    from bench import generate as gen
    from bench.database import server_url

    url = server_url()
    data_dir = ROOT / ".data" / "bench" / f"orders-{args.scale}-seed-{args.seed}"
    began, commit = datetime.now(UTC), _commit()  # what is measured: the code at the start
    load_start = os.getloadavg()
    try:
        _prepare(url, args.prefix, args.scale, args.seed)
        orders_csv = gen.generate_cached(data_dir, orders=args.scale, seed=args.seed)["orders.csv"]
        results: dict[str, dict[str, list[dict]]] = {}
        for step in ("ingest", "kpi"):
            if args.only and step != args.only:
                continue
            results[step] = {v: [] for v in VARIANTS}
            for variant in VARIANTS:
                _log(f"{step}: fresh copy of {variant} …")
                _copy_database(url, f"{args.prefix}_{variant}", f"{args.prefix}_{variant}_tpl")
            for run in range(args.runs):
                for variant in VARIANTS if run % 2 == 0 else tuple(reversed(VARIANTS)):
                    result = _run_child(step, f"{args.prefix}_{variant}", args, orders_csv)
                    if result["partitioned"] != (variant == "monthly"):
                        raise RuntimeError(f"{variant}: canonical_orders partitioned = {result['partitioned']}")
                    results[step][variant].append(result)
                    shown = {k: v for k, v in result.items() if k.endswith("_s") or k == "load"}
                    _log(f"{step} run {run + 1} {variant}: {shown}")
    finally:
        if not args.keep:
            _log(f"dropped {', '.join(_drop_databases(url, args.prefix)) or 'nothing'}")
    load_end = os.getloadavg()
    head = (
        f"### Monthly partitioning of canonical_orders and canonical_order_lines (bench/partitioning.py)\n\n"
        f"{began:%Y-%m-%d %H:%M} UTC · commit {commit} · {platform.node()} · {os.cpu_count()} cores, shared with "
        f"other sessions · load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end · "
        f"{args.scale:,} orders · {args.runs} runs per variant, interleaved (the first variant alternating)\n"
    )
    lines = [head]
    lines += _table(results, args.runs)
    text = "\n".join(lines) + "\n"
    detail = {
        step: {
            v: [{k: r[k] for k in r if k.endswith(("_s", "_ms")) or k == "load"} for r in rs] for v, rs in by.items()
        }
        for step, by in results.items()
    }
    print(text)
    print(json.dumps(detail, indent=1))
    if args.append_to:
        with args.append_to.open("a") as fh:
            fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
