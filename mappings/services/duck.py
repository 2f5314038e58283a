"""DuckDB connections that may read one uploaded file and nothing else.

Every DuckDB connection the app opens on user data comes from `duckdb_connect_locked`: no other path,
no network, no extension install or autoload, and the configuration is locked so that no later
statement can loosen it. Transforms are compiled to SQL over the file with bound parameters, so even
a malicious mapping cannot name another file; this is the second wall.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from mappings.services.dialect import RAGGED_EXTRA, duckdb_read_csv_options, header_width, positional_read_csv_options


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
    columns, rows, _ = file_layout(path, dialect)
    return columns, rows


def ragged_sql(width: int) -> tuple[str, str]:
    """(a condition true for rows with more fields than the header, their field count) over c0 … cN."""
    extras = range(width, width + RAGGED_EXTRA)
    condition = "(" + " OR ".join(f"c{i} IS NOT NULL" for i in extras) + ")"
    count = "greatest(" + ", ".join(f"CASE WHEN c{i} IS NOT NULL THEN {i + 1} END" for i in extras) + ")"
    return condition, count


def file_layout(path: Path | str, dialect: dict) -> tuple[list[str], int, dict | None]:
    """(column names, row count, ragged rows) of the whole file, in one scan.

    The names are the header's fields (DuckDB's names: blank/duplicate headers de-duplicated), never the
    extra fields of rows that have more than the header. Ragged rows, when there are any:
    {"rows": how many, "examples": the first ten row numbers (header = row 1), "header_fields",
    "max_fields"}; None otherwise (and for files without a header row). Sets `dialect["quoted_newlines"]`
    when values span lines (DuckDB then reads the file serially).
    """
    resolved = str(Path(path).resolve())
    conn = duckdb_connect_locked(resolved)
    try:
        rel_sql, params = read_csv_relation_sql(dialect)
        described = [d[0] for d in conn.execute(f"DESCRIBE SELECT * FROM {rel_sql}", [resolved, *params]).fetchall()]
        width = header_width(resolved, dialect) if dialect.get("header", True) else None
        if not width or width > len(described):
            (rows,) = conn.execute(f"SELECT count(*) FROM {rel_sql}", [resolved, *params]).fetchone()
            return described, int(rows), None
        condition, count = ragged_sql(width)
        for attempt in range(2):
            options = positional_read_csv_options(dialect, width)
            names = ", ".join(f"{key} := ?" for key in options)
            try:
                rows, ragged, examples, max_fields = conn.execute(
                    f"SELECT count(*), count(*) FILTER (WHERE {condition}), "
                    f"list(__row ORDER BY __row) FILTER (WHERE {condition})[1:10], max({count}) "
                    f"FROM (SELECT row_number() OVER () + 1 AS __row, * FROM read_csv(?, {names}))",
                    [resolved, *options.values()],
                ).fetchone()
                break
            except duckdb.Error as exc:
                if attempt or "quoted new lines" not in str(exc):
                    raise
                dialect["quoted_newlines"] = True  # stored with the dialect: every later read is serial
        layout = None
        if ragged:
            layout = {"rows": ragged, "examples": examples, "header_fields": width, "max_fields": max_fields}
        return described[:width], int(rows), layout
    finally:
        conn.close()
