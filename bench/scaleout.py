"""Scale-out rows on loopback: a sales rep's dashboard read on a streaming standby beside the same read on the
primary, and what an idle dashboard poll costs (queries, latency).

    python -m bench.scaleout [--reads 300] [--results bench/RESULTS-scaleout.md]
    python -m bench.scaleout --orders 1000000 [--append-to bench/RESULTS-scaleout.md]

Starts its own PostgreSQL 15 primary + streaming standby and a Redis (tests/scaleout/cluster.py, the
topology of `make test-scaleout`), loads data, waits for the standby, measures, and stops everything.
Printed (and written), never asserted.

Without --orders: the Northwind demo (seed_demo, 830 orders): the cost of reading a standby and of a poll.
With --orders N: the generated bench data at N orders (`bench.run --prepare-only` on the primary, every KPI view
built), then, with dashboard reads on the standby (DATABASE_REPLICA_URL):
- every public KPI view read by an executive, a VP, the busiest sales manager and their busiest rep
  (`kpi_rows_for_user`, the result cache emptied before each read): p50 / p95 per view and role;
- 50 concurrent dashboard users on gunicorn (bench.dashboard.bench_page_load): errors, page and widget p95;
- queries and latency of an idle dashboard poll;
- with `--here` on a prepared database instead: the role reads only, or `--users closed,model`: the 50 users back
  to back (`bench_page_load`, `--iterations` page views each) and with think time and polling (`bench_user_model`),
  with CPU per request;
- last (it empties canonical_orders): an ingest of the N-row orders file on an `ingest` Celery worker with
  refreshes queued behind it on a `refresh,default` worker (tests/reliability/workers.py): when each refresh
  started and finished, against the ingest's own start and end.
"""

from __future__ import annotations

import argparse
import contextlib
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
    from django.core.management import call_command

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
    _wait_replayed()

    rep = User.objects.get(username="davolio")
    dashboard = Dashboard.objects.get(slug="sales-overview")
    widgets = list(dashboard.widgets.all())
    scope = user_row_scope(rep)
    queries = [selectors.widget_query(w, DashboardFilters()) for w in widgets]
    statements = [selectors._statement(q, selectors._effective_ids(scope, q)) for q in queries]
    names = [q.view.name for q in queries]
    results = {}

    def read_on(alias):
        def read():
            results[alias] = kpi_read_with_repair(scope, statements, names, using=alias)

        return read

    # Interleaved (the standby's and the primary's reads take turns): the same machine load for both.
    on = _timed_reads({PRIMARY: read_on(PRIMARY), REPLICA: read_on(REPLICA)}, samples=reads, warmup=20)
    same = results[PRIMARY] == results[REPLICA]

    seen, poll_ms = _idle_poll(rep, dashboard, reads)

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
            _poll_tables(seen),
        ),
        (
            "idle dashboard poll latency (Django test client, in process)",
            f"p50 {p(poll_ms, 50)}, p95 {p(poll_ms, 95)}",
            f"{reads} polls",
        ),
    ]


def _wait_replayed() -> float:
    """Wait until the standby has replayed everything the primary wrote so far; the seconds it took."""
    from django.db import connection, connections

    from config.replica import REPLICA

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    with connections[REPLICA].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return time.perf_counter() - started
            time.sleep(0.05)


# --- --orders N: the generated bench data -------------------------------------------------------------------------

READ_SAMPLES = 50
READ_BUDGET_S = 20  # per view and role, once READ_MIN_SAMPLES are in: a slow read gets fewer samples, said so
READ_MIN_SAMPLES = 10


# Reads of the views no demo widget reads: the bench's own query, modest like a widget's.
EXTRA_READS = {
    "undated_revenue": {"measures": ["revenue", "order_count", "line_count"]},
    "top_products": {
        "group_by": ["product_id", "product_name"],
        "measures": ["revenue"],
        "order_by": ["-revenue"],
        "limit": 10,
    },
    "inventory_status": {"group_by": ["category"], "measures": ["quantity_on_hand"], "order_by": ["category"]},
    "customer_segments": {"group_by": ["segment"], "measures": ["revenue", "customer_count"], "order_by": ["-revenue"]},
    "new_vs_returning_customers": {
        "group_by": ["month"],
        "measures": ["new_customers", "returning_customers"],
        "order_by": ["month"],
    },
}


def _reads(owner) -> list[tuple[str, str, object]]:
    """(label, view, read(user) -> rows) for every widget of the demo dashboards (their widget read, as the page
    makes it) and for each public KPI view no demo widget reads (EXTRA_READS), then each dataset's default read."""
    from dashboards.filters import DashboardFilters
    from dashboards.kpi.registry import public_views
    from dashboards.models import Dashboard
    from dashboards.presenters import TABLE_MAX_ROWS
    from dashboards.selectors import kpi_rows_for_user, widgets_data_for_user
    from dashboards.services.dashboards import dashboard_create
    from dashboards.services.demo import demo_dashboards_data, demo_widgets
    from dashboards.services.widgets import widget_create

    Dashboard.objects.filter(slug="bench-every-widget").delete()
    board = dashboard_create(title="Bench: every demo widget", slug="bench-every-widget", owner=owner)
    reads = []
    for demo in demo_dashboards_data()["dashboards"]:
        for spec in demo_widgets(demo["slug"]):
            widget = widget_create(dashboard=board, **spec)

            def read(user, widget=widget):
                # As the page reads it: a table widget's first rows (the page draws TABLE_MAX_ROWS, exports read all).
                data = widgets_data_for_user(
                    user=user, widgets=[widget], filters=DashboardFilters(), shown_rows=TABLE_MAX_ROWS
                )[0]
                if data.error:
                    raise RuntimeError(f"{widget.title}: {data.error}")
                return data.rows

            reads.append((f"{demo['slug']}: {widget.title}", widget.view_name, read))
    read_views = {view for _, view, _ in reads}
    for view in public_views():
        if view.name in read_views:
            continue
        options = EXTRA_READS.get(view.name)
        label = f"{view.name} ({'bench query' if options else 'default read, up to 5,000 rows'})"
        reads.append(
            (
                label,
                view.name,
                lambda user, v=view.name, o=options: kpi_rows_for_user(user=user, view_name=v, options=o),
            )
        )
    return reads


def _forget_cached_rows() -> None:
    """Empty the KPI result cache only: the caller's scope and the views' freshness stay cached, as for a viewer
    who opens a dashboard after a refresh."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*kpi:rows:*", count=1000))
    if keys:
        client.delete(*keys)


def _role_reads(users: dict, samples: int, *, modes=("cold", "hot"), only: tuple[str, ...] = ()) -> list[dict]:
    """Every read of `_reads` (those whose label holds one of `only`, when given) by every role, twice: with every
    cache emptied before each read (`cold`, as bench/kpi.py measures) and with only the result cache emptied (`hot`:
    scope and freshness cached); `modes` picks."""
    from django.core.cache import cache

    from bench.timing import percentile
    from dashboards.kpi.registry import KPI_VIEWS

    out = []
    for label, view, read in _reads(users["executive"]):
        if only and not any(part in label for part in only):
            continue
        for role, user in users.items():
            entry = {"read": label, "view": view, "dataset": KPI_VIEWS[view].dataset, "role": role}
            rows = []
            for mode, forget in (("cold", cache.clear), ("hot", _forget_cached_rows)):
                if mode not in modes:
                    continue

                def once(read=read, user=user, rows=rows):
                    rows[:] = read(user)

                (timings,) = _timed_reads(
                    {mode: once}, samples=samples, warmup=3, before=forget, budget_s=READ_BUDGET_S
                ).values()
                entry[mode] = {"p50": percentile(timings, 50), "p95": percentile(timings, 95), "reads": len(timings)}
                entry["row_count"] = len(rows)
            out.append(entry)
    return out


def _timed_reads(
    reads: dict, *, samples: int, warmup: int, before=None, budget_s: float | None = None
) -> dict[str, list[float]]:
    """Milliseconds of each read (name -> callable), `samples` times after `warmup` untimed rounds; the reads take
    turns in each round, in alternating order, so they share the machine's load. `before` runs untimed before each
    read (a cache emptied); with `budget_s`, rounds stop once READ_MIN_SAMPLES are in and the budget is spent."""
    timings: dict[str, list[float]] = {name: [] for name in reads}
    names = list(reads)
    began = time.perf_counter()
    for i in range(samples + warmup):
        for name in names if i % 2 == 0 else names[::-1]:
            if before is not None:
                before()
            started = time.perf_counter()
            reads[name]()
            if i >= warmup:
                timings[name].append((time.perf_counter() - started) * 1000)
        done = min(len(t) for t in timings.values())
        if budget_s is not None and done >= READ_MIN_SAMPLES and time.perf_counter() - began > budget_s:
            break
    return timings


def _ingest_with_refreshes(orders_csv: Path, executive, workdir: Path, refresh_workers: int = 1) -> dict:
    """An ingest of the orders file (into an empty canonical_orders: the bulk path) on an `ingest` worker, and two
    refreshes queued behind it on a `refresh,default` worker: monthly_revenue (reads the orders) and
    monthly_expenses (does not). When each started and ended, from the same clock as the ingest's."""
    from django.db import connection
    from django.utils import timezone

    from bench.ingest import ORDER_FIELDS
    from dashboards.models import RefreshJob
    from dashboards.tasks import kpi_view_refresh_task
    from mappings.models import ExecutionJob
    from mappings.services.execute import execution_enqueue
    from mappings.services.mapping import mapping_save
    from mappings.services.profile import data_source_profile
    from mappings.services.upload import data_source_create, data_source_scan
    from tests.reliability.workers import WorkerProcess

    source = data_source_create(file=orders_csv, name=orders_csv.name, user=executive, scan_later=False)
    data_source_profile(source=source)
    data_source_scan(source=source)
    mapping = mapping_save(source=source, fields=ORDER_FIELDS, user=executive, note="bench")
    env = {
        "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"],
        "DATABASE_REPLICA_URL": os.environ["DATABASE_REPLICA_URL"],
    }
    queues = ["ingest"] + ["refresh,default"] * refresh_workers  # serve's default: one process per queue
    workers = [
        WorkerProcess(workdir / f"worker-{i}.log", database_url=os.environ["DATABASE_URL"], queues=q, extra_env=env)
        for i, q in enumerate(queues)
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE canonical_orders CASCADE")
        queued = timezone.now()
        job = execution_enqueue(source=source, mapping=mapping, user=executive)
        while not ExecutionJob.objects.filter(pk=job.pk, status=ExecutionJob.Status.RUNNING).exists():
            time.sleep(0.05)
        running = timezone.now()
        # Queued once the load writes (it holds the table's locks then: the bulk path drops and rebuilds indexes).
        while "writing" not in (ExecutionJob.objects.get(pk=job.pk).stage or ""):
            if ExecutionJob.objects.get(pk=job.pk).status != ExecutionJob.Status.RUNNING:
                break
            time.sleep(0.05)
        time.sleep(2)
        behind = timezone.now()
        views = ("monthly_revenue", "monthly_expenses")
        for view in views:
            kpi_view_refresh_task.delay(view_name=view, mode="full")
        refreshes = {}
        deadline = time.monotonic() + 3600
        while len(refreshes) < len(views) or ExecutionJob.objects.get(pk=job.pk).status == ExecutionJob.Status.RUNNING:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the ingest or a refresh did not end within an hour: {refreshes}")
            for view in views:
                # The first run of the view after it was queued (a busy view is retried: a later row).
                first = RefreshJob.objects.filter(view_name=view, created_at__gte=behind).order_by("created_at").first()
                if first is not None and first.status not in ("queued", "running"):
                    refreshes[view] = first
            time.sleep(0.2)
        job.refresh_from_db()
    finally:
        for worker in workers:
            worker.stop()
    seconds = lambda a, b: round((b - a).total_seconds(), 2)  # noqa: E731
    ended = job.finished_at or timezone.now()
    return {
        "refresh_workers": refresh_workers,
        "ingest": {
            "status": job.status,
            "rows": source.rows,
            "queued_to_running_s": seconds(queued, running),
            "refreshes_queued_after_running_s": seconds(running, behind),
            "running_when_refreshes_queued": ended > behind,
            "running_s": seconds(running, ended),
            "error": job.error[:300],
        },
        "refreshes": {
            view: {
                "status": r.status,
                "start_after_queued_s": seconds(behind, r.last_run),
                "duration_s": round((r.duration_ms or 0) / 1000, 2),
                "ended_minus_ingest_end_s": seconds(ended, r.last_run) + round((r.duration_ms or 0) / 1000, 2),
            }
            for view, r in refreshes.items()
        },
    }


def _measure_scale(
    orders_csv: Path, samples: int, iterations: int, workdir: Path, reads: bool = True, refresh_workers: int = 1
) -> dict:
    import django

    django.setup()
    from bench.dashboard import bench_page_load
    from dashboards.services.refresh import kpi_views_refresh_all

    result: dict = {}
    started = time.perf_counter()
    kpi_views_refresh_all(full=True)
    result["kpi_built_s"] = round(time.perf_counter() - started, 1)
    result["replay_wait_s"] = round(_wait_replayed(), 2)
    users, dashboard, roles, result["scope"] = _roles()
    _wait_replayed()
    if reads:
        result["reads"] = _role_reads(roles, samples)
        result["page_load"] = bench_page_load(users, dashboard, iterations=iterations)
        seen, poll_ms = _idle_poll(users["rep"], dashboard, 300)
        from bench.timing import percentile

        result["idle_poll"] = {
            "queries": len(seen),
            "tables": _poll_tables(seen),
            "p50": percentile(poll_ms, 50),
            "p95": percentile(poll_ms, 95),
        }
    result["ingest_refresh"] = _ingest_with_refreshes(orders_csv, users["executive"], workdir, refresh_workers)
    return result


def _roles():
    """The bench's four roles on the prepared data (bench/dashboard.py's users, and the VP above the manager)."""
    from accounts.selectors import user_row_scope
    from bench.dashboard import ensure_users_and_dashboard
    from bench.kpi import _vp

    users, dashboard = ensure_users_and_dashboard()
    roles = {
        "executive": users["executive"],
        "VP": _vp(users["manager"]),
        "manager": users["manager"],
        "rep": users["rep"],
    }
    scope = {
        role: ("all rows" if user_row_scope(u).all_rows else f"{len(user_row_scope(u).employee_ids)} employees")
        for role, u in roles.items()
    }
    return users, dashboard, roles, scope


def _main_here(args: argparse.Namespace) -> int:
    """--here: the role reads (`_role_reads`) on the database DATABASE_URL names, prepared and built already (no
    cluster started): a before/after of a change to a view, on one machine state. Printed only."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    users, dashboard, roles, scope = _roles()
    if args.users:
        return _users_here(args, users, dashboard)
    loads = [os.getloadavg()[0]]
    only = tuple(part for part in (args.only or "").split(",") if part)
    reads = _role_reads(roles, args.reads, modes=tuple(args.modes.split(",")), only=only)
    loads.append(os.getloadavg()[0])
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · load average {loads[0]:.1f} → {loads[1]:.1f} · scopes {scope}")
    mode = args.modes.split(",")[-1]
    print("| read | " + " | ".join(roles) + f" |  ({mode}: p95 / p50 ms over {args.reads} reads)")
    print("|---|" + "---|" * len(roles))
    labels = list(dict.fromkeys(r["read"] for r in reads))
    cell = {(r["read"], r["role"]): r[mode] for r in reads}
    for label in labels:
        print(
            f"| {label} | "
            + " | ".join(f"{cell[label, r]['p95']:.1f} / {cell[label, r]['p50']:.1f}" for r in roles)
            + " |"
        )
    return 0


def _users_here(args: argparse.Namespace, users: dict, dashboard) -> int:
    """--here --users closed,model: 50 concurrent dashboard users on the prepared database (reads on the standby when
    DATABASE_REPLICA_URL names one): closed loop without think time (`bench_page_load`), and/or the user model with
    think time and polling (`bench_user_model`). Printed only, with the load average around each."""
    from bench.dashboard import bench_page_load, bench_user_model

    for kind in args.users.split(","):
        load = os.getloadavg()[0]
        if kind == "closed":
            row = bench_page_load(
                users, dashboard, iterations=args.iterations, workers=args.web_workers, threads=args.web_threads
            )
        else:
            row = bench_user_model(
                users, dashboard, duration_s=args.model_seconds, workers=args.web_workers, threads=args.web_threads
            )
        print(
            f"{datetime.now(UTC):%H:%M} UTC · load average {load:.1f} → {os.getloadavg()[0]:.1f} | {row['what']} | "
            f"{row['ours']} | {row['notes']}",
            flush=True,
        )
    return 0


def _render_scale(result: dict, orders: int, commit: str, loads: tuple[float, float]) -> str:
    reads = result.get("reads", [])
    roles = list(result["scope"])
    cell = {(r["read"], r["role"]): r for r in reads}
    lines = [
        f"### Bench rows at {orders:,} orders, reads on a streaming standby (bench/scaleout.py --orders {orders})",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · commit {commit} · {platform.node()} · {os.cpu_count()} cores, "
        f"shared with other sessions · load average {loads[0]:.1f} at the start, {loads[1]:.1f} at the end · "
        "PostgreSQL 15 primary + streaming standby on loopback (tests/scaleout/cluster.py: fsync off), Redis; "
        f"every KPI view built in {result['kpi_built_s']} s; 10M orders is out of reach on 2 shared cores here.",
        "",
    ]
    reads_head = [
        "**Every role's KPI read** on the standby: each widget of the demo dashboards read as the page reads it "
        "(`widgets_data_for_user`), and each public KPI view no demo widget reads (`kpi_rows_for_user`, a modest "
        "query of the bench's, bench/scaleout.py EXTRA_READS). p95 / p50 ms over up to "
        f"{READ_SAMPLES} reads: *hot*, only the KPI result cache emptied before each read (the caller's scope and "
        "the views' freshness cached, as for a viewer after a refresh); *cold*, every cache emptied (as bench/kpi.py "
        "measures). Target p95 ≤ 10 ms. Scopes: "
        + ", ".join(f"{role} {scope}" for role, scope in result["scope"].items())
        + ".",
        "",
        "| read | " + " | ".join(f"{role}: hot · cold" for role in roles) + " | rows (executive) |",
        "|---|" + "---|" * len(roles) + "---|",
    ]
    lines += reads_head if reads else []
    misses = []
    labels = list(dict.fromkeys(r["read"] for r in reads))
    datasets = [label for label in labels if cell[(label, roles[0])].get("dataset")]
    for label in [x for x in labels if x not in datasets] + datasets:
        if datasets and label == datasets[0]:
            lines.append(f"| *datasets (row-level, the data API; not KPI summaries)* |{' |' * (len(roles) + 1)}")
        cells = []
        for role in roles:
            r = cell[(label, role)]
            hot, cold = r["hot"], r["cold"]
            mark = "" if hot["p95"] <= 10 else " **miss**"
            if mark and label not in datasets:
                misses.append(f"{label} ({role} {hot['p95']:.1f} ms)")
            cells.append(f"{hot['p95']:.1f} / {hot['p50']:.1f}{mark} · {cold['p95']:.1f} / {cold['p50']:.1f}")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {cell[(label, roles[0])]['row_count']} |")
    if reads:
        lines += [
            "",
            f"KPI reads missing 10 ms p95 with the result cache emptied ({len(misses)}): "
            + (", ".join(misses) if misses else "none")
            + ".",
            "",
        ]
    lines += ["| row | figure | notes |", "|---|---|---|"]
    if "page_load" in result:
        page, poll = result["page_load"], result["idle_poll"]
        lines += [
            f"| {page['what']}, reads on the standby | {page['ours']} | {page['notes']} |",
            f"| queries per idle dashboard poll (304) | {poll['queries']} | {poll['tables']}; latency p50 "
            f"{poll['p50']:.1f} / p95 {poll['p95']:.1f} ms (Django test client, in process) |",
        ]
    ir = result["ingest_refresh"]
    ingest = ir["ingest"]
    for view, r in ir["refreshes"].items():
        lines.append(
            f"| {view} refresh queued {ingest['refreshes_queued_after_running_s']:.1f} s into a {ingest['rows']:,}-row "
            + (
                "ingest, while it wrote"
                if ingest.get("running_when_refreshes_queued", True)
                else "ingest, AFTER it ended"
            )
            + f" (routed workers: ingest, {ir.get('refresh_workers', 1)} × refresh) | started "
            f"{r['start_after_queued_s']:.2f} s after it was queued (target ≤ 5 s) | {r['status']} in "
            f"{r['duration_s']:.1f} s, ending {r['ended_minus_ingest_end_s']:+.1f} s from the ingest's end; the "
            f"ingest ({ingest['status']}) ran {ingest['running_s']:.1f} s |"
        )
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _standby_pair(**extra_env: str):
    """(workdir, env): a PostgreSQL primary + streaming standby and a Redis on loopback in a scratch folder, and
    the environment a child process reads them with; all stopped and the folder removed on the way out."""
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
        yield (
            workdir,
            {
                **os.environ,
                "DATABASE_URL": pair.url(),
                "DATABASE_REPLICA_URL": pair.url(standby=True),
                "REDIS_URL": redis.url,
                "MEDIA_ROOT": str(workdir / "media"),
                "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
                "DJANGO_SETTINGS_MODULE": "config.settings.local",
                **extra_env,
            },
        )
    finally:
        for stop in reversed(stops):
            stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _main_scale(args: argparse.Namespace) -> int:
    import json

    from bench import generate as gen

    data_dir = ROOT / ".data" / "bench" / f"orders-{args.orders}-seed-42"
    gen.generate_cached(data_dir, orders=args.orders, seed=42)  # the child reads its orders.csv
    loads = [os.getloadavg()[0]]
    with _standby_pair(UPLOAD_MAX_MB="4096") as (workdir, env):
        prepare = [sys.executable, "-m", "bench.run", "--scale", str(args.orders), "--prepare-only"]
        subprocess.run([*prepare, "--database", "ledgerlight"], cwd=ROOT, env=env, check=True)
        done = subprocess.run(
            [sys.executable, "-m", "bench.scaleout", "--child", "--orders", str(args.orders), "--reads",
             str(args.reads), "--workdir", str(workdir)] + (["--ingest-only"] if args.ingest_only else [])
            + ["--refresh-workers", str(args.refresh_workers)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        results = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
        if done.returncode or not results:
            print(done.stdout[-3000:], done.stderr[-8000:], file=sys.stderr)
            return done.returncode or 1
        result = json.loads(results[-1].removeprefix("RESULT "))
    loads.append(os.getloadavg()[0])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    text = _render_scale(result, args.orders, commit.stdout.strip(), (loads[0], loads[1]))
    print(text)
    print(json.dumps(result, indent=1, default=str))
    if args.append_to:
        with args.append_to.open("a") as fh:
            fh.write("\n" + text)
    return 0


def _idle_poll(user, dashboard, reads: int) -> tuple[list[str], list[float]]:
    """The queries of one idle poll of `dashboard` by `user` (304), and the latency of `reads` more."""
    from django.core.cache import cache
    from django.db import connections
    from django.test import Client

    from config.replica import PRIMARY, REPLICA

    client = Client()
    client.force_login(user)
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
    return seen, poll_ms


def _poll_tables(seen: list[str]) -> str:
    return "; ".join(q.split(" FROM ")[1].split(" ")[0] if " FROM " in q else q[:40] for q in seen)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS-scaleout.md"))
    parser.add_argument("--orders", type=int, help="the generated bench data at this many orders (see above)")
    parser.add_argument("--append-to", type=Path, help="with --orders: append the section to this results file")
    parser.add_argument("--ingest-only", action="store_true", help="with --orders: only the ingest + refresh row")
    parser.add_argument("--refresh-workers", type=int, default=1, help="with --orders: refresh worker processes")
    parser.add_argument(
        "--here", action="store_true", help="only the role reads, on the prepared database DATABASE_URL names"
    )
    parser.add_argument("--only", help="with --here: comma-separated parts of the read labels to measure")
    parser.add_argument("--modes", default="hot", help="with --here: cold,hot or one of them (default hot)")
    parser.add_argument("--users", help="with --here: closed,model: the 50-user runs instead of the role reads")
    parser.add_argument("--model-seconds", type=float, default=180, help="with --users model: how long it runs")
    parser.add_argument(
        "--iterations", type=int, default=4, help="with --users closed: page views per user (4: the first views weigh)"
    )
    parser.add_argument("--web-workers", type=int, default=2, help="with --users: gunicorn processes")
    parser.add_argument("--web-threads", type=int, default=8, help="with --users: threads per gunicorn process")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.here:
        return _main_here(args)
    if args.child and args.orders:
        import json

        data_dir = ROOT / ".data" / "bench" / f"orders-{args.orders}-seed-42"
        result = _measure_scale(
            data_dir / "orders.csv", READ_SAMPLES, 4, args.workdir, reads=not args.ingest_only,
            refresh_workers=args.refresh_workers,
        )  # fmt: skip
        print("RESULT " + json.dumps(result, default=str), flush=True)
        return 0
    if args.orders:
        return _main_scale(args)
    if args.child:
        for row in _measure(args.reads):
            print("ROW\t" + "\t".join(row), flush=True)
        return 0

    with _standby_pair() as (_workdir, env):
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
