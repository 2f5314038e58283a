"""A Celery worker behind `manage.py serve` (what `make run` runs) is killed with SIGKILL, as the kernel's
OOM killer would: the web server, beat and the other queues' workers keep running, and a new worker is
started on the same queue and gets ready."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest
from django.conf import settings

from tests.database import database_url
from tests.reliability.conftest import wait_for

pytestmark = pytest.mark.celery_worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(serve: subprocess.Popen) -> dict[str, psutil.Process]:
    """serve's direct children by role: gunicorn (web), celery beat, and "worker-QUEUES" per worker."""
    found = {}
    for child in psutil.Process(serve.pid).children():
        try:
            with_args = " ".join(child.cmdline())
        except psutil.Error:  # a killed child not reaped yet
            continue
        if "gunicorn" in with_args:
            found["web"] = child
        elif " worker" in with_args:
            args = child.cmdline()
            found["worker-" + args[args.index("--queues") + 1]] = child
        elif " beat" in with_args:
            found["beat"] = child
    return found


def _web_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def serve(db, tmp_path):  # db: the connection then names the test database
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        DJANGO_SETTINGS_MODULE="config.settings.test",
        EMBEDDED_QUIET="1",
        SERVE_WORKERS="ingest,refresh,default",
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc, port, log_path
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    child.kill()
                proc.kill()


def test_serve_starts_a_worker_per_queue_and_an_attacker_who_crashes_one_does_not_take_the_site_down(serve):
    proc, port, log_path = serve
    log = lambda: log_path.read_text(errors="replace")  # noqa: E731
    wait_for(lambda: _web_answers(port), timeout=90, what="the web server")
    wait_for(lambda: log().count(" ready.") >= 3, timeout=120, what="the three workers to be ready")
    before = _children(proc)
    workers = {"worker-ingest", "worker-refresh", "worker-default"}
    assert set(before) == {"web", "beat", *workers}, log()[-3000:]

    os.killpg(before["worker-ingest"].pid, signal.SIGKILL)  # the worker and its pool, at once

    def replaced_or_stopped():
        worker = _children(proc).get("worker-ingest")
        return proc.poll() is not None or (worker is not None and worker.pid != before["worker-ingest"].pid)

    wait_for(replaced_or_stopped, timeout=60, what="a new ingest worker (or serve to stop)")
    assert proc.poll() is None, "serve stopped:\n" + log()[-3000:]
    assert "worker-ingest exited with status -9; restarting it in 1 s" in log()
    assert _web_answers(port)
    wait_for(lambda: log().count(" ready.") >= 4, timeout=90, what="the new worker to be ready")
    current = _children(proc)
    unchanged = {n: p.pid for n, p in current.items() if n != "worker-ingest"}
    assert unchanged == {n: p.pid for n, p in before.items() if n != "worker-ingest"}, log()[-4000:]
    assert _web_answers(port)


def test_serve_workers_reads_queues_and_counts():
    from dashboards.management.commands.serve import serve_workers

    assert serve_workers("ingest,refresh,default") == [
        ("worker-ingest", "ingest"),
        ("worker-refresh", "refresh"),
        ("worker-default", "default"),
    ]
    assert serve_workers("ingest:2, refresh+default") == [
        ("worker-ingest", "ingest"),
        ("worker-ingest-2", "ingest"),
        ("worker-refresh+default", "refresh,default"),
    ]
    with pytest.raises(ValueError):
        serve_workers("ingest:many")
    with pytest.raises(ValueError):
        serve_workers(" , ")


def test_restarts_back_off_and_are_capped():
    from dashboards.management.commands.serve import restart_delay

    assert [restart_delay(n) for n in (1, 2, 3, 4, 7, 50)] == [1, 2, 4, 8, 60, 60]


def test_a_worker_that_keeps_crashing_is_restarted_later_each_time_and_web_exit_stops_serve():
    from dashboards.management.commands.serve import Child, Command

    command = Command()
    crashing = Child("worker", [sys.executable, "-c", "raise SystemExit(3)"])
    delays = []
    crashing.start(dict(os.environ))
    for _ in range(3):
        crashing.proc.wait(timeout=30)
        before = time.monotonic()
        assert command._supervise(crashing, dict(os.environ)) is True
        delays.append(round(crashing.restart_at - before))
        crashing.restart_at = time.monotonic()  # skip the wait
        assert command._supervise(crashing, dict(os.environ)) is True
    crashing.proc.wait(timeout=30)
    assert delays == [1, 2, 4]
    assert crashing.starts == 4

    web = Child("web", [sys.executable, "-c", "raise SystemExit(1)"])
    web.start(dict(os.environ))
    web.proc.wait(timeout=30)
    assert command._supervise(web, dict(os.environ)) is False
