"""DuckDB connections that may read one uploaded file and nothing else.

Every DuckDB connection the app opens on user data comes from `duckdb_connect_locked`: no other path,
no network, no extension install or autoload, and the configuration is locked so that no later
statement can loosen it. Transforms are compiled to SQL over the file with bound parameters, so even
a malicious mapping cannot name another file; this is the second wall.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from mappings.services.dialect import duckdb_read_csv_options


def duckdb_connect_locked(path: Path | str, *, threads: int | None = None, memory_limit: str = "256MB"):
    """An in-memory DuckDB connection allowed to read `path` only."""
    conn = duckdb.connect(":memory:")
    conn.execute("SET autoinstall_known_extensions = false")
    conn.execute("SET autoload_known_extensions = false")
    conn.execute("SET allowed_paths = ?", [[str(Path(path).resolve())]])
    conn.execute("SET enable_external_access = false")
    conn.execute("SET memory_limit = ?", [memory_limit])
    if threads:
        conn.execute("SET threads = ?", [threads])
    conn.execute("SET lock_configuration = true")
    return conn


def read_csv_relation_sql(dialect: dict) -> tuple[str, list]:
    """`read_csv(?, opt := ?, ...)` for the stored dialect: SQL text and its parameters (the path first)."""
    options = duckdb_read_csv_options(dialect)
    names = ", ".join(f"{key} := ?" for key in options)
    return f"read_csv(?, {names})", list(options.values())


def file_columns_and_rows(path: Path | str, dialect: dict) -> tuple[list[str], int]:
    """The file's column names as DuckDB reads them (blank/duplicate headers de-duplicated) and its row count."""
    resolved = str(Path(path).resolve())
    conn = duckdb_connect_locked(resolved)
    try:
        rel_sql, params = read_csv_relation_sql(dialect)
        described = conn.execute(f"DESCRIBE SELECT * FROM {rel_sql}", [resolved, *params]).fetchall()
        (rows,) = conn.execute(f"SELECT count(*) FROM {rel_sql}", [resolved, *params]).fetchone()
        return [d[0] for d in described], int(rows)
    finally:
        conn.close()
