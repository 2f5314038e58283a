"""Run the web server (gunicorn), one Celery worker per queue and celery-beat together; Ctrl-C stops all.

SERVE_WORKERS lists the workers: `ingest,refresh,default` (the default) starts one worker per queue, so a
long ingest never holds up a KPI refresh; `ingest:2` starts two workers on a queue; `ingest+default`
starts one worker on both. A worker or beat that dies (killed for memory, a crash) is started again after
a back-off, while the web server keeps serving: losing a worker delays background work, it must not take
the site down.

`make run` adds `--welcome` (the workers' start-up banners left out, and once the site answers and the
workers reply, the address and the demo logins printed last) and `--stop-embedded` (on exit, the embedded
PostgreSQL and Redis that this run started are stopped too; config.embedded).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand

WEB = "web"  # gunicorn restarts its own workers; its master exiting ends `serve`
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
STABLE_AFTER_SECONDS = 60.0  # a run at least this long starts the back-off over
WELCOME_WORKERS_WAIT_SECONDS = 60.0  # after the site answers, how long the welcome waits for the workers
# `make run` (--welcome) often runs as root (a container, a sandbox), and each Celery worker then prints a
# SecurityWarning among the start-up lines. There only, its workers get a filter for that one message (a Python
# warnings filter: C_FORCE_ROOT does not silence it); a production `serve` (no --welcome) still warns.
ROOT_WARNING_FILTER = "ignore:You're running the worker with superuser privileges"


def restart_delay(failures: int) -> float:
    """Seconds to wait before the `failures`-th restart in a row: 1, 2, 4, ... at most 60."""
    return min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, failures - 1))


def serve_workers(spec: str) -> list[tuple[str, str]]:
    """(name, queues) of each worker in a SERVE_WORKERS value: "ingest:2,refresh+default" gives
    [("worker-ingest", "ingest"), ("worker-ingest-2", "ingest"), ("worker-refresh+default", "refresh,default")]."""
    workers = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        queues, _, count = item.partition(":")
        if not count.isdigit() and count:
            raise ValueError(f"SERVE_WORKERS: {item!r} is not QUEUE[+QUEUE...][:COUNT]")
        for n in range(1, int(count or 1) + 1):
            workers.append((f"worker-{queues}" + (f"-{n}" if n > 1 else ""), queues.replace("+", ",")))
    if not workers:
        raise ValueError("SERVE_WORKERS names no queue")
    return workers


EMBEDDED_NAMES = {"postgres": "PostgreSQL", "redis": "Redis"}


def _embedded_in_use() -> list[str]:
    """The embedded services this process uses ("postgres", "redis"); none when the URLs were given."""
    flags = (("postgres", "EMBEDDED_POSTGRES"), ("redis", "EMBEDDED_REDIS"))
    return [kind for kind, flag in flags if os.environ.get(flag)]


def _named(kinds) -> str:
    return " and ".join(EMBEDDED_NAMES[k] for k in sorted(kinds))


def welcome_text(url: str, *, stop_embedded: bool) -> str:
    """What `make run` prints last: where to go, the demo logins, how to stop."""
    from config import embedded
    from dashboards.management.commands.seed_demo import demo_logins_lines

    in_use = _embedded_in_use()
    ours = [k for k in in_use if k in embedded.started()] if stop_embedded else []
    kept = [k for k in in_use if k not in ours]
    stops = "Ctrl-C stops web, workers and beat"
    if ours:
        stops += f" and the embedded {_named(ours)} this run started"
    if kept:
        stops += f"; the embedded {_named(kept)} keep running (`make stop-services` stops them)"
    return "\n".join(
        [
            "=" * 72,
            f"Ledgerlight is ready: open {url} and log in as fuller",
            *demo_logins_lines(),
            stops + ".",
            "=" * 72,
            "",
        ]
    )


def welcome_worker_env(env: dict[str, str]) -> dict[str, str]:
    """What a worker of `make run` (--welcome) gets on top of `env`: PYTHONWARNINGS with ROOT_WARNING_FILTER."""
    warnings = ",".join(w for w in (env.get("PYTHONWARNINGS"), ROOT_WARNING_FILTER) if w)
    return {"PYTHONWARNINGS": warnings}


@dataclass
class Child:
    name: str
    cmd: list[str]
    extra_env: dict[str, str] | None = None  # on top of the environment `serve` passes to every child
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    starts: int = 0

    def start(self, env: dict[str, str]) -> None:
        # Its own session: a signal to the group reaches the child's own children (the worker's pool).
        env = {**env, **(self.extra_env or {})}
        self.proc = subprocess.Popen(self.cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None
        self.starts += 1

    def signal_group(self, sig: int) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)


class Command(BaseCommand):
    help = "Serve the app: gunicorn + a Celery worker per queue + celery-beat; a dead worker or beat is restarted."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "3")))
        parser.add_argument("--celery-workers", default=settings.SERVE_WORKERS, help="e.g. ingest,refresh,default")
        parser.add_argument(
            "--welcome", action="store_true", help="quiet start-up; the address and demo logins once the site answers"
        )
        parser.add_argument(
            "--stop-embedded", action="store_true", help="on exit, stop the embedded PostgreSQL/Redis this run started"
        )

    def handle(
        self, *args, bind: str, workers: int, celery_workers: str, welcome: bool, stop_embedded: bool, **options
    ):
        env = os.environ.copy()  # carries DATABASE_URL / REDIS_URL of embedded services to the children
        bin_dir = os.path.dirname(sys.executable)
        commands = {
            "web": [
                os.path.join(bin_dir, "gunicorn"),
                "config.wsgi:application",
                "--bind", bind,
                "--workers", str(workers),
                "--access-logfile", "-",
                "--timeout", "120",
            ],
            "beat": [
                os.path.join(bin_dir, "celery"), "-A", "config", "beat", "--loglevel", "INFO",
                "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
            ],
        }  # fmt: skip
        for name, queues in serve_workers(celery_workers):
            commands[name] = [
                os.path.join(bin_dir, "celery"), "-A", "config", *(["--quiet"] if welcome else []), "worker",
                "--queues", queues,
                "--loglevel", "INFO", "--concurrency", str(settings.SERVE_WORKER_CONCURRENCY),
                "--hostname", f"{name.replace('+', '-')}@%h",
            ]  # fmt: skip
        worker_env = welcome_worker_env(env) if welcome else None
        children = {
            name: Child(name, cmd, extra_env=worker_env if name.startswith("worker-") else None)
            for name, cmd in commands.items()
        }
        for child in children.values():
            child.start(env)
        if not welcome:
            self.stdout.write(
                self.style.SUCCESS(f"\nServing on http://{bind}/  (Ctrl-C stops web, workers and beat)\n")
            )
        stopping = False
        welcome_state = {"pending": welcome, "web_at": None, "workers": len(children) - 2}

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for child in children.values():
                    if not self._supervise(child, env):
                        stopping = True
                if welcome_state["pending"] and not stopping:
                    self._welcome_when_ready(bind, welcome_state, stop_embedded)
                time.sleep(0.5)
        finally:
            self._stop_all(children)
            if stop_embedded:
                self._stop_embedded()

    def _welcome_when_ready(self, bind: str, state: dict, stop_embedded: bool) -> None:
        """Print the welcome once the site answers and every worker replies (or a minute after the site)."""
        host, _, port = bind.rpartition(":")
        everywhere = ("", "0.0.0.0", "[::]")  # noqa: S104 - a bind to every interface is reached on the loopback
        url = f"http://{'127.0.0.1' if host in everywhere else host}:{port}"
        if state["web_at"] is None:
            try:
                with urllib.request.urlopen(url + "/login/", timeout=5):  # noqa: S310 - http URL built here
                    state["web_at"] = time.monotonic()
            except OSError:
                return
        if time.monotonic() - state["web_at"] < WELCOME_WORKERS_WAIT_SECONDS:
            from config.celery_app import app

            try:
                if len(app.control.ping(timeout=0.5)) < state["workers"]:
                    return
            except Exception:  # noqa: BLE001 - broker not ready yet: ask again on the next round
                return
        state["pending"] = False
        self.stdout.write(self.style.SUCCESS("\n" + welcome_text(url, stop_embedded=stop_embedded)))
        self.stdout.flush()

    def _stop_embedded(self) -> None:
        from config import embedded

        stopped = embedded.stop_started()
        if stopped:
            self.stdout.write(f"Stopped the embedded {_named(stopped)}.")
        if kept := [k for k in _embedded_in_use() if k not in stopped]:
            self.stdout.write(
                f"The embedded {_named(kept)} were running before this run and keep running: "
                "`make stop-services` stops them."
            )

    def _supervise(self, child: Child, env: dict[str, str]) -> bool:
        """Restart a dead worker or beat when its back-off has passed; False when `serve` must stop."""
        now = time.monotonic()
        if child.restart_at is not None:
            if now >= child.restart_at:
                self.stderr.write(f"{child.name}: starting again (restart {child.failures} in a row)")
                child.start(env)
            return True
        status = child.proc.poll()
        if status is None:
            return True
        if child.name == WEB:
            self.stderr.write(f"{child.name} exited with status {status}; stopping the others")
            return False
        child.signal_group(signal.SIGKILL)  # pool processes a killed worker leaves behind
        child.failures = 1 if now - child.started_at >= STABLE_AFTER_SECONDS else child.failures + 1
        delay = restart_delay(child.failures)
        child.restart_at = now + delay
        self.stderr.write(
            f"{child.name} exited with status {status}; restarting it in {delay:.0f} s (web keeps serving)"
        )
        return True

    def _stop_all(self, children: dict[str, Child]) -> None:
        running = [c for c in children.values() if c.proc is not None and c.proc.poll() is None]
        for child in running:
            child.signal_group(signal.SIGTERM)
        deadline = time.time() + 15
        for child in running:
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                child.signal_group(signal.SIGKILL)
        self.stdout.write("Stopped web, workers and beat.")
