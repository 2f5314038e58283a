"""Real Celery worker processes for fault tests, against the test database (or PgBouncer) and the test Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


class RoutedWorkers:
    """An `ingest` worker and a `refresh,default` worker, as production routes them (CELERY_TASK_ROUTES); logs in
    `directory`. `extra_env` reaches both (PgBouncer settings, a standby); `own_upload_cache` gives each worker an
    upload cache directory of its own, as on separate machines."""

    def __init__(
        self,
        directory: Path,
        *,
        database_url: str,
        extra_env: dict[str, str] | None = None,
        own_upload_cache: bool = False,
    ):
        self.directory = directory
        self.database_url = database_url
        self.extra_env = extra_env
        self.own_upload_cache = own_upload_cache
        self.runs = 0
        self.ingest: WorkerProcess | None = None
        self.refresh: WorkerProcess | None = None

    def _start(self, queues: str) -> WorkerProcess:
        self.runs += 1
        name = queues.split(",")[0]
        extra_env = dict(self.extra_env or {})
        if self.own_upload_cache:
            extra_env["UPLOAD_CACHE_DIR"] = str(self.directory / f"upload-cache-{name}")
        worker = WorkerProcess(
            self.directory / f"{name}-{self.runs}.log",
            database_url=self.database_url,
            queues=queues,
            extra_env=extra_env,
        )
        worker.wait_ready()
        return worker

    def start(self) -> None:
        self.ingest = self._start("ingest")
        self.refresh = self._start("refresh,default")

    def restart_ingest(self) -> WorkerProcess:
        """A new ingest worker (after a test killed the last one)."""
        self.ingest.stop()
        self.ingest = self._start("ingest")
        return self.ingest

    def stop(self) -> None:
        for worker in (self.ingest, self.refresh):
            if worker is not None:
                worker.stop()


@contextmanager
def routed_workers(
    directory: Path, *, database_url: str, extra_env: dict[str, str] | None = None, own_upload_cache: bool = False
) -> Iterator[RoutedWorkers]:
    """`RoutedWorkers` started on an emptied broker, stopped on the way out."""
    broker_queues_clear()
    running = RoutedWorkers(
        directory, database_url=database_url, extra_env=extra_env, own_upload_cache=own_upload_cache
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
