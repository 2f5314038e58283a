"""Run the web server (gunicorn), a Celery worker and celery-beat together; Ctrl-C stops all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the app: gunicorn + Celery worker + celery-beat, stopped together."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "3")))

    def handle(self, *args, bind: str, workers: int, **options):
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
            "worker": [
                os.path.join(bin_dir, "celery"), "-A", "config", "worker",
                "--loglevel", "INFO", "--concurrency", "2", "--hostname", "worker@%h",
            ],
            "beat": [
                os.path.join(bin_dir, "celery"), "-A", "config", "beat", "--loglevel", "INFO",
                "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
            ],
        }  # fmt: skip
        procs: dict[str, subprocess.Popen] = {}
        for name, cmd in commands.items():
            procs[name] = subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True)
        self.stdout.write(self.style.SUCCESS(f"\nServing on http://{bind}/  (Ctrl-C stops web, worker and beat)\n"))
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with status {proc.returncode}; stopping the others")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.time() + 15
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            self.stdout.write("Stopped web, worker and beat.")
