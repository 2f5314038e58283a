"""CPU per dashboard request, by kind of request, in one process and one thread: what a web worker spends on each
(issue 21: 50 closed-loop users need ~3 ms of CPU per request end to end on 2 cores).

    DATABASE_URL=…/ll_N_kpi python -m bench.request_cpu [--requests 200] [--roles executive,manager,rep]
        [--profile "page (partials kept)"] [--top 40]

On a database prepared and built as bench/scaleout.py's `--here` expects (`bench.run --prepare-only`, every KPI
view built). Each request goes through Django's WSGI handler (every middleware, the session cookie of a real login,
as gunicorn calls it), `--requests` times per kind and role after a few untimed ones; CPU is this process's
(`time.process_time`: Python, template rendering, psycopg and redis-py's client side), not PostgreSQL's or Redis's.
Kinds (the bench's `bench_page_load` mix and the live poll):
- page (partials kept): the dashboard page carrying every widget partial kept for its reader (a repeat view);
- page (none kept): the page with no partial kept (a first view: its widgets load after it);
- widget (kept): a widget partial served from the kept HTML (mean over the dashboard's widgets);
- widget (drawn): a widget partial drawn again (kept HTML dropped; KPI rows from the result cache), per widget;
- idle poll (304): /changes/ with the ETag it has.
`--profile KIND` prints cProfile's top functions (cumulative and own time) for that kind and the first role.
Printed, never asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from datetime import UTC, datetime

KINDS = ("page (partials kept)", "page (none kept)", "widget (kept)", "widget (drawn)", "idle poll (304)")


def _environ(path: str, cookie: str, *, htmx: bool = False, etag: str = "") -> dict:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_COOKIE": f"sessionid={cookie}",
        "HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if htmx:
        env["HTTP_HX_REQUEST"] = "true"
    if etag:
        env["HTTP_IF_NONE_MATCH"] = etag
    return env


class _App:
    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler

        self.handler = WSGIHandler()

    def get(self, path: str, cookie: str, **kw) -> tuple[int, dict, bytes]:
        seen = {}

        def start_response(status, headers, exc_info=None):
            seen["status"] = int(status.split()[0])
            seen["headers"] = dict(headers)

        body = b"".join(self.handler(_environ(path, cookie, **kw), start_response))
        return seen["status"], seen["headers"], body


def _forget_kept() -> None:
    """Drop every kept widget partial (dashboards.views PARTIAL_CACHE_SECONDS) in this Redis db."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*dashboards:partial:*", count=1000))
    if keys:
        client.delete(*keys)


def _timed(call, n: int, *, before=None, warmup: int = 3) -> tuple[float, float]:
    """(CPU ms, wall ms) per call, means over `n` calls after `warmup`; `before` runs untimed before each."""
    for _ in range(warmup):
        if before:
            before()
        call()
    cpu = wall = 0.0
    for _ in range(n):
        if before:
            before()
        c0, w0 = time.process_time(), time.perf_counter()
        call()
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
    return cpu * 1000 / n, wall * 1000 / n


def _print_profile(prof: cProfile.Profile, top: int) -> None:
    """The profile's top functions by cumulative and by own time, on stderr (the table goes to stdout)."""
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(out.getvalue(), file=sys.stderr)


def measure(users: dict, dashboard, n: int, roles: list[str], profile: str = "", top: int = 40) -> list[dict]:
    from django.test import Client

    app = _App()
    page = f"/dashboards/{dashboard.slug}/"
    changes = f"/dashboards/{dashboard.slug}/changes/"
    widgets = [f"/dashboards/{dashboard.slug}/widgets/{w.pk}/" for w in dashboard.widgets.all()]
    rows = []
    for role in roles:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(users[role])
        cookie = client.cookies["sessionid"].value

        def ok(status, what):
            if status not in (200, 304):
                raise RuntimeError(f"{what}: {status}")

        def get_page(cookie=cookie):
            status, _, _ = app.get(page, cookie)
            ok(status, page)

        def fill_kept(cookie=cookie):
            for url in widgets:
                ok(app.get(url, cookie, htmx=True)[0], url)

        fill_kept()
        status, headers, _ = app.get(changes, cookie)
        poll_etag = headers.get("ETag", "")
        calls = {
            "page (partials kept)": (get_page, fill_kept),
            "page (none kept)": (get_page, _forget_kept),
            "widget (kept)": (lambda cookie=cookie: fill_kept(cookie), None),
            "idle poll (304)": (lambda c=cookie, e=poll_etag: ok(app.get(changes, c, etag=e)[0], changes), None),
        }
        entry = {"role": role}
        for kind in KINDS:
            if kind == "widget (drawn)":
                per = []
                for url in widgets:

                    def draw(url=url, cookie=cookie):
                        ok(app.get(url, cookie, htmx=True)[0], url)

                    per.append(_timed(draw, n, before=_forget_kept))
                entry[kind] = (sum(c for c, _ in per) / len(per), sum(w for _, w in per) / len(per))
                entry["widget (drawn) each"] = [c for c, _ in per]
                continue
            call, before = calls[kind]
            if kind == "page (partials kept)":
                fill_kept()
                before = None  # kept for 60 s: filled once above, the page reads them
            cpu, wall = _timed(call, n, before=before)
            if kind == "widget (kept)":
                cpu, wall = cpu / len(widgets), wall / len(widgets)
            entry[kind] = (cpu, wall)
            if profile == kind and role == roles[0]:
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(n):
                    if before:
                        before()
                    call()
                prof.disable()
                _print_profile(prof, top)
        if profile == "widget (drawn)" and role == roles[0]:
            prof = cProfile.Profile()
            for _ in range(max(1, n // len(widgets))):
                for url in widgets:
                    _forget_kept()
                    prof.enable()
                    app.get(url, cookie, htmx=True)
                    prof.disable()
            _print_profile(prof, top)
        rows.append(entry)
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per kind and role")
    parser.add_argument("--roles", default="executive,manager,rep")
    parser.add_argument("--profile", default="", choices=("", *KINDS), help="cProfile this kind (first role)")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    import gc

    from bench.dashboard import ensure_users_and_dashboard

    users, dashboard = ensure_users_and_dashboard()
    gc.freeze()  # as config/wsgi.py does in each gunicorn worker
    roles = args.roles.split(",")
    load = os.getloadavg()[0]
    rows = measure(users, dashboard, args.requests, roles, args.profile, args.top)
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · load average {load:.1f} → {os.getloadavg()[0]:.1f} · "
        f"{args.requests} requests per kind and role · CPU / wall ms per request (one thread, in process)"
    )
    print("| request | " + " | ".join(roles) + " |")
    print("|---|" + "---|" * len(roles))
    for kind in KINDS:
        print(f"| {kind} | " + " | ".join(f"{r[kind][0]:.2f} / {r[kind][1]:.2f}" for r in rows) + " |")
    print(
        "| widget (drawn), CPU each | "
        + " | ".join(" · ".join(f"{c:.1f}" for c in r["widget (drawn) each"]) for r in rows)
        + " |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
