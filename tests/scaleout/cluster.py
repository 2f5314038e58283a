"""The scale-out topology on loopback, for `make test-scaleout`: a PostgreSQL primary and a streaming standby
(Debian's PostgreSQL 15 binaries: initdb, pg_basebackup -R, pg_ctl), PgBouncer in transaction mode in front of
the primary, an S3-compatible server (moto) and a Redis, each on a free port in one temporary directory.

Nothing here imports Django: `tests/scaleout/run.py` starts these before pytest (Django reads DATABASE_URL,
DATABASE_REPLICA_URL, REDIS_URL and the storage variables at start-up) and stops them after, also on failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("SCALEOUT_PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None, log: Path, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{what} did not start on port {port}:\n{text[-3000:]}")
        time.sleep(0.1)


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its binaries as the `postgres` system user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run(_as_postgres(command), stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{log.read_text(errors='replace')[-3000:]}"
        )


class PostgresPair:
    """A primary and a hot standby streaming from it (pg_basebackup -R writes the standby's connection)."""

    SETTINGS = (
        "listen_addresses = '127.0.0.1'\n"
        "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nhot_standby_feedback = on\n"
        "max_connections = 200\n"
        # A test cluster: durability is not what is tested, speed on 2 shared cores is.
        "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n"
    )

    def __init__(self, root: Path):
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN} (Debian: apt-get install postgresql-15)")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.primary_dir, self.standby_dir = root / "primary", root / "standby"
        self.primary_port, self.standby_port = free_port(), free_port()
        self.log = root / "setup.log"
        self.started: list[Path] = []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        _run(
            [str(PG_BIN / "initdb"), "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            self.log,
        )
        self._configure(self.primary_dir, self.primary_port)
        self._start(self.primary_dir)
        _run(
            [
                str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
                "-D", str(self.standby_dir), "-R", "-X", "stream", "-c", "fast",
            ],
            self.log,
        )  # fmt: skip
        self._configure(self.standby_dir, self.standby_port)
        self._start(self.standby_dir)

    def _configure(self, data: Path, port: int) -> None:
        with (data / "postgresql.conf").open("a") as conf:  # appended: the last setting wins
            conf.write(self.SETTINGS + f"port = {port}\nunix_socket_directories = '{self.root}'\n")

    def _start(self, data: Path) -> None:
        _run(
            [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data.with_suffix(".log")), "-w", "-t", "60", "start"],
            self.log,
        )
        self.started.append(data)

    def url(self, *, standby: bool = False, dbname: str = "ledgerlight") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.standby_port if standby else self.primary_port}/{dbname}"

    def server(self) -> dict:
        """The primary in Django's DATABASES keys (what PgBouncer is put in front of)."""
        return {
            "HOST": "127.0.0.1",
            "PORT": self.primary_port,
            "USER": "postgres",
            "PASSWORD": "",
            "NAME": "ledgerlight",
        }

    def create_database(self, name: str) -> None:
        _run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres", name],
            self.log,
        )

    def stop(self) -> None:
        for data in reversed(self.started):  # the standby first
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"], self.log)
        self.started.clear()


class RedisServer:
    def __init__(self, root: Path):
        self.port = free_port()
        self.log = root / "redis.log"
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.proc, self.log, "redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._out.close()
