"""A PgBouncer in transaction mode in front of the test database, on a free loopback port, for one test.

Debian's `pgbouncer` package (1.18: no prepared statements in transaction mode). The test starts it with a
generated ini and stops it at the end; nothing is left listening.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgBouncer:
    def __init__(self, directory: Path, *, server: dict | None = None):
        """In front of `server` ({HOST, PORT, USER, PASSWORD, NAME}, Django's keys), default the test database."""
        if not os.path.exists(PGBOUNCER):
            pytest.skip("PgBouncer is not installed (Debian: apt-get install -y pgbouncer)")
        s = server or connection.settings_dict
        self.port = _free_port()
        target = f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432}"
        self.user, self.dbname = s.get("USER") or "postgres", s.get("NAME")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "users.txt").write_text(f'"{self.user}" "{s.get("PASSWORD") or ""}"\n')
        ini = directory / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = {target}" + (f" password={s['PASSWORD']}" if s.get("PASSWORD") else "") + "\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {directory / 'users.txt'}\n"
            "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 20\n"
            "server_reset_query =\nignore_startup_parameters = extra_float_digits,options\n"
            "logfile =\npidfile =\n"
        )
        os.chmod(directory, 0o755)
        for path in directory.iterdir():
            os.chmod(path, 0o644)
        as_user = ["-u", "nobody"] if os.geteuid() == 0 else []  # it refuses to run as root
        self.log_path = directory / "pgbouncer.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen([PGBOUNCER, *as_user, str(ini)], stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("pgbouncer did not start:\n" + self.log())
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{quote(self.user, safe='')}@127.0.0.1:{self.port}/{dbname}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
