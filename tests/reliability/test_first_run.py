"""Issue 23 item 10: `make run`'s last step, `manage.py serve --welcome --stop-embedded`, on a machine without
DATABASE_URL and REDIS_URL: the logins come once the site answers, and Ctrl-C stops the embedded PostgreSQL
and Redis that the run started, but not those that were running before it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from tests.reliability.conftest import wait_for

pytestmark = pytest.mark.celery_worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _embedded_env(data_dir: Path) -> dict[str, str]:
    """A first-run machine: no service URLs, so the settings start embedded ones (in `data_dir`)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(EMBEDDED_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="config.settings.local", SERVE_WORKERS="default")
    for flag in ("EMBEDDED_POSTGRES", "EMBEDDED_REDIS", "EMBEDDED_QUIET"):
        env.pop(flag, None)
    return env


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None or not psutil.pid_exists(pid):
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _embedded(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "config.embedded", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_ctrl_c_on_make_runs_server_stops_the_embedded_postgres_and_redis_it_started(tmp_path):
    data_dir = tmp_path / "data"
    env = _embedded_env(data_dir)
    port = _free_port()
    log_path = tmp_path / "serve.log"
    _embedded(env, "forget-started")  # what `make run` does first
    with log_path.open("wb") as log:
        serve = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--welcome", "--stop-embedded", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "1"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    text = lambda: log_path.read_text(errors="replace")  # noqa: E731
    try:
        wait_for(lambda: "log in as fuller" in text() or serve.poll() is not None, timeout=240, what="the welcome")
        output = text()
        assert f"open http://127.0.0.1:{port} and log in as fuller" in output, output[-3000:]
        welcome = output[output.index("Ledgerlight is ready") :]
        assert "fuller     Executive" in welcome and "davolio    Sales Rep" in welcome
        assert "the embedded PostgreSQL and Redis this run started" in welcome
        assert '"GET /login/ HTTP/1.1" 200' in output[: output.index("Ledgerlight is ready")]  # it answered first
        assert "-------------- [queues]" not in output  # no worker banner buries it
        assert "superuser privileges" not in output  # nor Celery's root warning (serve.ROOT_WARNING_FILTER)
        postgres, redis = _pid(data_dir / "pg" / "postmaster.pid"), _pid(data_dir / "redis.pid")
        assert _alive(postgres) and _alive(redis)

        serve.send_signal(signal.SIGINT)  # Ctrl-C
        serve.wait(timeout=90)

        assert "Stopped the embedded PostgreSQL and Redis." in text(), text()[-3000:]
        assert not _alive(postgres) and not _alive(redis)  # gone when serve has exited
        assert not (data_dir / "started").exists()
    finally:
        if serve.poll() is None:
            for child in psutil.Process(serve.pid).children(recursive=True):
                child.kill()
            serve.kill()
        _embedded(env, "stop")


def test_embedded_services_running_before_the_run_are_left_running_and_the_exit_says_so(tmp_path):
    data_dir = tmp_path / "data"
    env = _embedded_env(data_dir)
    _embedded(env)  # `make services` before `make run`: both started
    try:
        postgres, redis = _pid(data_dir / "pg" / "postmaster.pid"), _pid(data_dir / "redis.pid")
        assert _alive(postgres) and _alive(redis)
        _embedded(env, "forget-started")  # `make run` begins: nothing started by it yet

        stopped = subprocess.run(
            [sys.executable, "-c", "from config import embedded; embedded.ensure_environment(); "
             "print(sorted(embedded.stop_started()))"],
            cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip

        assert stopped.stdout.strip() == "[]"
        assert _alive(postgres) and _alive(redis)
    finally:
        _embedded(env, "stop")
    wait_for(lambda: not _alive(postgres) and not _alive(redis), timeout=30, what="the services to stop")
