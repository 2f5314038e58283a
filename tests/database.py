"""The test database as a URL or conninfo for other sessions and child processes (Celery workers).

Works for a TCP server (CI) and for the embedded PostgreSQL, whose HOST is a unix-socket directory.
"""

from __future__ import annotations

from urllib.parse import quote

from django.db import connection
from psycopg.conninfo import make_conninfo


def database_conninfo() -> str:
    s = connection.settings_dict
    params = {"host": s["HOST"], "port": str(s["PORT"] or ""), "user": s["USER"], "password": s["PASSWORD"]}
    return make_conninfo(dbname=s["NAME"], **{k: v for k, v in params.items() if v})


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s["HOST"] or "127.0.0.1"
    if host.startswith("/"):  # unix-socket directory (embedded PostgreSQL)
        port = f"&port={s['PORT']}" if s["PORT"] else ""
        return f"postgresql://{auth}@/{s['NAME']}?host={quote(host)}{port}"
    return f"postgresql://{auth}@{host}:{s['PORT'] or 5432}/{s['NAME']}"
