"""Dashboard benchmarks: the data API for a 5-widget dashboard with the demo roles' scopes, and the dashboard
page under 50 concurrent users on loopback (gunicorn, bounded run).

    python -m bench.run --only data_api,page_load --scale 1000000

Data: what earlier benchmarks ingested into canonical_*; when nothing is there yet, the references' resolved
base tables (bench_ref, same generated files) are copied in, and every KPI view is rebuilt if it never was.
Scopes, as the demo users have them: an executive (all rows), the sales manager with most orders (their
subtree) and that manager's busiest rep (own rows).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.timing import latencies_ms, percentile

SQL_DIR = Path(__file__).resolve().parent / "sql"
ROOT = Path(__file__).resolve().parent.parent
WIDGETS = ("Monthly revenue", "Top customers", "Revenue by category", "Rep performance", "Order fulfillment")
CONCURRENT_USERS = 50


def _log(message: str) -> None:
    print(f"[bench.dashboard] {message}", file=sys.stderr, flush=True)


def _scalar(query: str):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


def ensure_data(database_url: str, files: dict | None) -> str:
    """Canonical rows and built KPI views; says where they came from."""
    from django.db import connection, transaction

    from dashboards.models import KpiViewState
    from dashboards.services.refresh import kpi_views_refresh_all

    origin = "canonical rows already ingested"
    if not _scalar("SELECT EXISTS (SELECT 1 FROM canonical_orders)"):
        from bench import references as refs

        has_ref = _scalar("SELECT to_regclass('bench_ref.orders') IS NOT NULL")
        if not has_ref or not _scalar("SELECT EXISTS (SELECT 1 FROM bench_ref.orders)"):
            if not files:
                raise RuntimeError("no canonical rows and no generated files to load")
            _log("loading the generated files into bench_ref …")
            if not has_ref:
                refs.reference_schema_create(database_url)
            refs.reference_tables_load(database_url, files)
        _log("copying bench_ref into canonical_* …")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute((SQL_DIR / "dashboard_canonical_from_ref.sql").read_text())
        origin = "canonical rows copied from bench_ref"
    if not KpiViewState.objects.filter(view_name="monthly_revenue", last_success_at__isnull=False).exists():
        _log("building every KPI view (full refresh) …")
        start = time.perf_counter()
        kpi_views_refresh_all(full=True)
        origin += f"; KPI views built in {time.perf_counter() - start:.0f} s"
    return origin


def ensure_users_and_dashboard():
    """The three scopes as users, and a 5-widget dashboard (the demo Sales overview's charts) shared with them."""
    from django.db import connection

    from accounts.models import Role
    from accounts.services import user_upsert
    from dashboards.models import Dashboard
    from dashboards.services.dashboards import dashboard_create, dashboard_share
    from dashboards.services.demo import demo_widgets
    from dashboards.services.widgets import widget_create

    with connection.cursor() as cursor:
        cursor.execute((SQL_DIR / "dashboard_busiest_manager.sql").read_text())
        manager_id, rep_id = cursor.fetchone()
    users = {
        "executive": user_upsert(username="bench-executive", password=None, roles=[Role.EXECUTIVE]),
        "manager": user_upsert(username="bench-manager", password=None, roles=[Role.MANAGER], employee_id=manager_id),
        "rep": user_upsert(username="bench-rep", password=None, roles=[Role.SALES_REP], employee_id=rep_id),
    }
    Dashboard.objects.filter(slug="bench-sales").delete()
    dashboard = dashboard_create(title="Bench sales", slug="bench-sales", owner=users["executive"])
    for position, spec in enumerate([s for s in demo_widgets("sales-overview") if s["title"] in WIDGETS], start=1):
        widget_create(dashboard=dashboard, position=position, **spec)
    for key in ("manager", "rep"):
        dashboard_share(dashboard=dashboard, level="view", username=users[key].username)
    return users, dashboard


def _client(user):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def _uncached_ms(call, *, count: int) -> list[float]:
    """Milliseconds of `count` calls, the result cache emptied (untimed) before each: what the first reader after a
    refresh pays, cache lookup and cache write included."""
    from django.core.cache import cache

    call()
    out = []
    for _ in range(count):
        cache.clear()
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench_data_api(users, dashboard, *, count: int) -> list[dict]:
    from accounts.selectors import user_row_scope

    rows = []
    url = f"/api/dashboard/{dashboard.pk}/data"
    # The floor on this machine: the same stack answering the smallest authenticated API call.
    floor_client = _client(users["rep"])
    floor = latencies_ms(lambda: floor_client.get("/api/dashboards/"), count=count, warmup=2)
    floor_text = f"p50 {percentile(floor, 50):.1f} / p95 {percentile(floor, 95):.1f} ms"
    for role, user in users.items():
        client = _client(user)
        scope = user_row_scope(user)
        size = "all rows" if scope.all_rows else f"{len(scope.employee_ids)} employee(s)"

        def call(client=client):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")

        cold = _uncached_ms(call, count=max(5, count // 4))
        warm = latencies_ms(call, count=count, warmup=2)
        common = (
            f"floor GET /api/dashboards/: {floor_text}; load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores; calls through the Django stack in-process"
        )
        for label, timings, how in (
            ("uncached", cold, "result cache emptied before each call (the first read after a refresh)"),
            ("cache warm", warm, "result cache warm (keyed by scope and the views' last refresh)"),
        ):
            p95 = percentile(timings, 95)
            rows.append(
                {
                    "topic": "data_api",
                    "what": f"GET /api/dashboard/{{id}}/data, 5 widgets, {role} scope ({size}), {label}",
                    "ours": f"p50 {percentile(timings, 50):.1f} / p95 {p95:.1f} / p99 {percentile(timings, 99):.1f}",
                    "unit": "ms",
                    "target": "p95 ≤ 50 ms",
                    "met": p95 <= 50,
                    "reference": "GET /api/dashboards/ (no KPI read), same client",
                    "notes": f"{len(timings)} calls, {how}; {common}",
                }
            )
    return rows


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers (a redirect to login or similar)
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")


@contextlib.contextmanager
def _gunicorn(workers: int, threads: int):
    """(base URL, server process): gunicorn as `serve` runs it (gthread), on a free loopback port; stopped after."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    env = dict(os.environ, DEBUG="false", LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for(f"{base}/login/")
        yield base, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


_WIDGET_GETS = re.compile(r'hx-get="(/dashboards/[^"?]+/widgets/\d+/)"')


class _Fetcher:
    """GET requests as the load's users make them (a new connection each, as urllib does), timed by kind."""

    def __init__(self, base: str):
        self.base = base
        self.by_kind: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def page(self, path: str, cookie: str) -> list[str]:
        """Load a dashboard page; the widget partials it still asks for (those it does not carry kept), as the
        browser's HTMX would load them."""
        body: list[str] = []
        self.get("page", path, cookie, body=body)
        return _WIDGET_GETS.findall(body[0]) if body else []

    def get(
        self, kind: str, path: str, cookie: str, *, htmx: bool = False, etag: str = "", body: list | None = None
    ) -> tuple[int, str]:
        """(status, ETag) of one request; a failure (or an unexpected status) counts as an error of the run.
        `body`: a list that receives the response's text."""
        request = urllib.request.Request(self.base + path, headers={"Cookie": f"sessionid={cookie}"})
        if htmx:
            request.add_header("HX-Request", "true")
        if etag:
            request.add_header("If-None-Match", etag)
        start = time.perf_counter()
        status, new_etag, problem = 0, "", ""
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                content = response.read()
                if body is not None:
                    body.append(content.decode())
                status, new_etag = response.status, response.headers.get("ETag", "")
        except urllib.error.HTTPError as exc:  # a 304 arrives as an HTTPError from urlopen
            status, new_etag = exc.code, exc.headers.get("ETag", "")
        except Exception as exc:  # any failure counts as an error of the run
            problem = f"{path}: {type(exc).__name__}: {exc}"
        if not problem and status not in (200, 304):
            problem = f"{path}: {status}"
        elapsed = (time.perf_counter() - start) * 1000
        with self.lock:
            self.by_kind.setdefault(kind, []).append(elapsed)
            if problem:
                self.errors.append(problem)
        return status, new_etag


def _cpu_groups(server_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by: this process (the load generator), the gunicorn server's
    processes, the PostgreSQL clusters that DATABASE_URL and DATABASE_REPLICA_URL name (every process of their
    postmasters), and the whole machine (/proc/stat: every core, every process, other sessions' too)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent pid, CPU seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)

    def tree(root: int) -> float:
        total, stack = 0.0, [root]
        while stack:
            pid = stack.pop()
            total += stats.get(pid, (0, 0.0))[1]
            stack += [child for child, (parent, _) in stats.items() if parent == pid]
        return total

    ports = {urllib.parse.urlsplit(os.environ.get(v, "")).port for v in ("DATABASE_URL", "DATABASE_REPLICA_URL")}
    postgres = 0.0
    for pid in stats:
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-D" in args and args[0].endswith(b"postgres"):
            data_dir = Path(args[args.index(b"-D") + 1].decode())
            try:
                port = int((data_dir / "postmaster.pid").read_text().splitlines()[3])
            except (OSError, IndexError, ValueError):
                continue
            if port in ports:
                postgres += tree(pid)
    machine = sum(int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]) / tick
    idle = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[4:6]]
    return {
        "client": time.process_time(),
        "gunicorn": tree(server_pid),
        "postgres": postgres,
        "machine": machine - sum(idle) / tick,
    }


def _cpu_note(before: dict[str, float], after: dict[str, float], requests: int) -> str:
    spent = {k: after[k] - before[k] for k in before}
    rest = spent["machine"] - spent["client"] - spent["gunicorn"] - spent["postgres"]
    per = lambda v: f"{v * 1000 / max(requests, 1):.1f}"  # noqa: E731
    return (
        f"CPU ms per request: gunicorn {per(spent['gunicorn'])}, load generator {per(spent['client'])}, "
        f"PostgreSQL (this cluster) {per(spent['postgres'])}, everything else on the machine (Redis, other "
        f"sessions) {per(rest)}; machine busy {spent['machine']:.1f} CPU-s"
    )


def bench_page_load(users, dashboard, *, iterations: int, workers: int = 2, threads: int = 8) -> dict:
    """50 users at once, each loading the page and the widget partials it asks for (those it does not carry kept)
    `iterations` times, back to back (closed loop, no think time: a throughput test; latency ~ users /
    throughput)."""
    with _gunicorn(workers, threads) as (base, server):
        cookies, roles, _ = _sessions_and_widgets(users, dashboard)
        fetcher = _Fetcher(base)

        def user_session(index: int) -> None:
            cookie = cookies[roles[index % len(roles)]]
            for _ in range(iterations):
                for url in fetcher.page(f"/dashboards/{dashboard.slug}/", cookie):
                    fetcher.get("widget", url, cookie, htmx=True)

        wall, cpu_before, cpu_after = _run_users(server, user_session)
    latencies = [ms for v in fetcher.by_kind.values() for ms in v]
    errors = fetcher.errors
    return {
        "topic": "page_load",
        "what": f"dashboard page + the widget partials it asks for, {CONCURRENT_USERS} concurrent users",
        "ours": f"{len(errors)} errors; p50 {percentile(latencies, 50):.0f} / p95 {percentile(latencies, 95):.0f} / "
        f"p99 {percentile(latencies, 99):.0f} ms; {len(latencies) / wall:.0f} req/s",
        "unit": "",
        "target": "0 errors",
        "met": not errors,
        "notes": (
            f"{len(latencies)} requests in {wall:.1f} s ({iterations} page loads per user, scopes executive / "
            f"manager / rep round robin) against gunicorn {workers} workers x {threads} threads on loopback; "
            + "; ".join(
                f"{kind} p50 {percentile(v, 50):.0f} / p95 {percentile(v, 95):.0f} ms"
                for kind, v in fetcher.by_kind.items()
            )
            + f"; {_cpu_note(cpu_before, cpu_after, len(latencies))}"
            + (f"; first error: {errors[0]}" if errors else "")
        ),
    }


def _sessions_and_widgets(users, dashboard):
    """A session cookie per role, the roles in order, and the dashboard's widget partial URLs."""
    cookies = {role: _client(user).cookies["sessionid"].value for role, user in users.items()}
    widget_urls = [f"/dashboards/{dashboard.slug}/widgets/{w.pk}/" for w in dashboard.widgets.all()]
    return cookies, list(cookies), widget_urls


def _run_users(server, user) -> tuple[float, dict, dict]:
    """`user(index)` for each of the concurrent users at once: the wall seconds and the server's CPU before/after."""
    cpu_before = _cpu_groups(server.pid)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENT_USERS) as pool:
        list(pool.map(user, range(CONCURRENT_USERS)))
    wall = time.perf_counter() - start
    return wall, cpu_before, _cpu_groups(server.pid)


def bench_user_model(
    users,
    dashboard,
    *,
    duration_s: float = 180,
    think_s: tuple[float, float] = (20, 40),
    workers: int = 2,
    threads: int = 8,
    seed: int = 7,
) -> dict:
    """50 concurrent users as Locust or JMeter count them: each user (one thread, scopes round robin) opens the
    dashboard (the page, then its widget partials one after another, as one page view), stays on it for a think
    time drawn uniformly from `think_s` while the page polls `/changes/` every poll interval of the dashboard (with
    the ETag it holds: 304 when nothing changed), then opens it again; users start spread over the first think
    time. Runs `duration_s`; a page view's time is its page and partials end to end."""
    import random

    from dashboards.views import POLL_SECONDS_MAX

    poll_s = min([POLL_SECONDS_MAX, *(int(w.refresh_interval.total_seconds()) for w in dashboard.widgets.all())])
    with _gunicorn(workers, threads) as (base, server):
        cookies, roles, widget_urls = _sessions_and_widgets(users, dashboard)
        changes = f"/dashboards/{dashboard.slug}/changes/"
        fetcher = _Fetcher(base)
        views: list[float] = []
        deadline = time.monotonic() + duration_s

        def user(index: int) -> None:
            rnd = random.Random(seed + index)
            cookie = cookies[roles[index % len(roles)]]
            time.sleep(rnd.uniform(0, think_s[0]))
            while time.monotonic() < deadline:
                started = time.perf_counter()
                for url in fetcher.page(f"/dashboards/{dashboard.slug}/", cookie):
                    fetcher.get("widget", url, cookie, htmx=True)
                views.append((time.perf_counter() - started) * 1000)
                _, etag = fetcher.get("first poll", changes, cookie)
                leave = time.monotonic() + rnd.uniform(*think_s)
                while time.monotonic() + poll_s < min(leave, deadline):
                    time.sleep(poll_s)
                    status, new = fetcher.get("idle poll", changes, cookie, etag=etag)
                    etag = new or etag
                time.sleep(max(0.0, min(leave, deadline) - time.monotonic()))

        wall, cpu_before, cpu_after = _run_users(server, user)
    requests = sum(len(v) for v in fetcher.by_kind.values())
    errors = fetcher.errors
    kinds = "; ".join(
        f"{kind} p50 {percentile(v, 50):.0f} / p95 {percentile(v, 95):.0f} ms ({len(v)})"
        for kind, v in fetcher.by_kind.items()
    )
    return {
        "topic": "user_model",
        "what": f"{CONCURRENT_USERS} concurrent users with think time (page view, polls every {poll_s} s, "
        f"{think_s[0]:.0f}–{think_s[1]:.0f} s on a page)",
        "ours": f"{len(errors)} errors; page view (page + the partials it asks for, of {len(widget_urls)}) p50 "
        f"{percentile(views, 50):.0f} / p95 {percentile(views, 95):.0f} ms; page p95 "
        f"{percentile(fetcher.by_kind['page'], 95):.0f} ms; {requests / wall:.1f} req/s",
        "notes": f"{len(views)} page views, {requests} requests in {wall:.0f} s against gunicorn {workers} workers x "
        f"{threads} threads; {kinds}; {_cpu_note(cpu_before, cpu_after, requests)}"
        + (f"; first error: {errors[0]}" if errors else ""),
    }


def run_dashboard_bench(*, quick: bool = False, database_url: str = "", files: dict | None = None) -> list[dict]:
    origin = ensure_data(database_url, files)
    users, dashboard = ensure_users_and_dashboard()
    rows = bench_data_api(users, dashboard, count=30 if quick else 200)
    rows[0]["notes"] += f"; data: {origin}"
    rows.append(bench_page_load(users, dashboard, iterations=1 if quick else 4))
    return rows
