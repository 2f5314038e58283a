"""A real Celery worker process for fault tests, against the test database and the test Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import redis
from django.conf import settings

QUEUES = ("ingest", "refresh", "default")


def broker_queues_clear() -> None:
    """Drop the messages other tests queued with no worker running, on every queue of this test's Redis db."""
    redis.Redis.from_url(settings.REDIS_URL).delete(*QUEUES, "celery")


class WorkerProcess:
    def __init__(
        self,
        log_path: Path,
        *,
        database_url: str,
        broker_url: str | None = None,
        queues: str | None = None,
        extra_env: dict[str, str] | None = None,
    ):
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=broker_url or settings.REDIS_URL,
            DJANGO_SETTINGS_MODULE="config.settings.test",
            EMBEDDED_QUIET="1",
        )
        env.update(extra_env or {})
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config.celery_app", "worker",
                "-P", "prefork", "-c", "1", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-l", "INFO", "-n", f"fault-{os.getpid()}-{time.monotonic_ns()}@%h",
            ] + (["-Q", queues] if queues else []),
            cwd=settings.BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.proc.poll() is not None:
                raise AssertionError("worker exited:\n" + self.log()[-3000:])
            time.sleep(0.2)
        raise AssertionError("worker not ready:\n" + self.log()[-3000:])

    def pool_children(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for child in psutil.Process(self.proc.pid).children(recursive=True):
                    child.kill()
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
