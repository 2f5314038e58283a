"""Scale-out rows on loopback: a sales rep's dashboard read on a streaming standby beside the same read on the
primary, and what an idle dashboard poll costs (queries, latency).

    python -m bench.scaleout [--reads 300] [--results bench/RESULTS-scaleout.md]

Starts its own PostgreSQL 15 primary + streaming standby and a Redis (tests/scaleout/cluster.py, the
topology of `make test-scaleout`), loads the Northwind demo (seed_demo, every KPI view built), waits for the
standby, measures, and stops everything. Demo scale (830 orders): the rows show the cost of reading a standby
and of a poll, not the 10M-order figures of issue 21. Printed (and written), never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _measure(reads: int) -> list[tuple[str, str, str]]:
    import io

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client

    from accounts.models import User
    from accounts.selectors import user_row_scope
    from bench.timing import percentile
    from config.replica import PRIMARY, REPLICA
    from dashboards import selectors
    from dashboards.filters import DashboardFilters
    from dashboards.kpi.read import kpi_read_with_repair
    from dashboards.models import Dashboard
    from dashboards.services.refresh import kpi_views_refresh_all

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    kpi_views_refresh_all(full=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    with connections[REPLICA].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)

    rep = User.objects.get(username="davolio")
    dashboard = Dashboard.objects.get(slug="sales-overview")
    widgets = list(dashboard.widgets.all())
    scope = user_row_scope(rep)
    queries = [selectors.widget_query(w, DashboardFilters()) for w in widgets]
    statements = [selectors._statement(q, selectors._effective_ids(scope, q)) for q in queries]
    names = [q.view.name for q in queries]
    on = {PRIMARY: [], REPLICA: []}
    results = {}
    for i in range(reads + 20):
        for alias in (REPLICA, PRIMARY) if i % 2 else (PRIMARY, REPLICA):  # interleaved: same machine load
            started = time.perf_counter()
            results[alias] = kpi_read_with_repair(scope, statements, names, using=alias)
            if i >= 20:  # warm-up
                on[alias].append((time.perf_counter() - started) * 1000)
    same = results[PRIMARY] == results[REPLICA]

    client = Client()
    client.force_login(rep)
    url = f"/dashboards/{dashboard.slug}/changes/"
    cache.clear()
    etag = client.get(url)["ETag"]
    seen: list[str] = []

    def count(execute, sql, params, many, context):
        seen.append(f"{context['connection'].alias}: {sql}")
        return execute(sql, params, many, context)

    # Counted by execute wrappers on every alias (they see what reaches a cursor, whatever the request does).
    with connections[PRIMARY].execute_wrapper(count), connections[REPLICA].execute_wrapper(count):
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304, response.status_code
    poll_ms = []
    for _ in range(reads):
        started = time.perf_counter()
        client.get(url, HTTP_IF_NONE_MATCH=etag)
        poll_ms.append((time.perf_counter() - started) * 1000)

    def p(values, q):
        return f"{percentile(values, q):.2f} ms"

    return [
        (
            f"a rep's sales-overview read ({len(widgets)} widgets, one round trip) on the standby",
            f"p50 {p(on[REPLICA], 50)}, p95 {p(on[REPLICA], 95)}",
            f"{reads} reads; rows equal the primary's: {same}",
        ),
        (
            "the same read on the primary",
            f"p50 {p(on[PRIMARY], 50)}, p95 {p(on[PRIMARY], 95)}",
            f"{reads} reads, interleaved with the standby's",
        ),
        (
            "queries per idle dashboard poll (304)",
            str(len(seen)),
            "; ".join(q.split(" FROM ")[1].split(" ")[0] if " FROM " in q else q[:40] for q in seen),
        ),
        (
            "idle dashboard poll latency (Django test client, in process)",
            f"p50 {p(poll_ms, 50)}, p95 {p(poll_ms, 95)}",
            f"{reads} polls",
        ),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS-scaleout.md"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        for row in _measure(args.reads):
            print("ROW\t" + "\t".join(row), flush=True)
        return 0

    from tests.scaleout.cluster import PostgresPair, RedisServer

    workdir = Path(tempfile.mkdtemp(prefix="ll-bench-scaleout-"))
    os.chmod(workdir, 0o755)
    stops = []
    try:
        pair = PostgresPair(workdir / "pg")
        stops.append(pair.stop)
        pair.create_database("ledgerlight")
        redis = RedisServer(workdir)
        stops.append(redis.stop)
        env = {
            **os.environ,
            "DATABASE_URL": pair.url(),
            "DATABASE_REPLICA_URL": pair.url(standby=True),
            "REDIS_URL": redis.url,
            "MEDIA_ROOT": str(workdir / "media"),
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
        }
        done = subprocess.run(
            [sys.executable, "-m", "bench.scaleout", "--child", "--reads", str(args.reads)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            print(done.stdout[-3000:], done.stderr[-5000:], file=sys.stderr)
            return done.returncode
        rows = [line.split("\t")[1:] for line in done.stdout.splitlines() if line.startswith("ROW\t")]
    finally:
        for stop in reversed(stops):
            stop()
        shutil.rmtree(workdir, ignore_errors=True)
    lines = [
        "# Scale-out rows (bench/scaleout.py)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {platform.node()} · {os.cpu_count()} cores · load "
        f"{os.getloadavg()[0]:.2f} · PostgreSQL 15 primary + streaming standby on loopback · Northwind demo scale",
        "",
        "| row | figure | notes |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    Path(args.results).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
