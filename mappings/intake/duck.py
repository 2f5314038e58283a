"""DuckDB connections that may read one uploaded file and nothing else.

Every DuckDB connection the app opens on user data comes from `duckdb_connect_locked`: no other path,
no network, no extension install or autoload, and the configuration is locked so that no later
statement can loosen it. Transforms are compiled to SQL over the file with bound parameters, so even
a malicious mapping cannot name another file; this is the second wall.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from mappings.intake.dialect import RAGGED_EXTRA, duckdb_read_csv_options, header_width, positional_read_csv_options


def quote_ident(name: str) -> str:
    """A DuckDB quoted identifier (headers come from the file: never trust them as SQL)."""
    if "\x00" in name:
        raise ValueError("column names cannot contain NUL")
    return '"' + name.replace('"', '""') + '"'


def duckdb_connect_locked(
    path: Path | str, *, threads: int | None = None, memory_limit: str = "256MB", spill_dir: Path | str | None = None
):
    """An in-memory DuckDB connection allowed to read `path` only.

    `spill_dir`: a private empty directory where DuckDB may write (only) its own temporary files when
    the tables it builds pass `memory_limit` (the direct load materializes the transformed file)."""
    conn = duckdb.connect(":memory:")
    if spill_dir is not None:
        conn.execute("SET temp_directory = ?", [str(spill_dir)])
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


def repair_sql(width: int, joiner: str) -> tuple[str, str]:
    """(the fields of a ragged row as text, its fields with those that begin with a space joined back onto
    the one before) over c0 … and its field count `__n`; `joiner` is SQL for the delimiter + " "."""
    fields = "list_slice([" + ", ".join(f"c{i}" for i in range(width + RAGGED_EXTRA)) + "], 1, __n)"
    texts = f"list_transform({fields}, lambda x: coalesce(x, ''))"
    merged = f"string_split(replace(array_to_string({texts}, chr(31)), chr(31) || ' ', {joiner}), chr(31))"
    return texts, merged


def _described(conn, resolved: str, dialect: dict) -> list[str]:
    """The column names DuckDB gives the file (sniffing its head only)."""
    rel_sql, params = read_csv_relation_sql(dialect)
    return [d[0] for d in conn.execute(f"DESCRIBE SELECT * FROM {rel_sql}", [resolved, *params]).fetchall()]


def file_columns(path: Path | str, dialect: dict) -> list[str]:
    """The header's column names without reading the file (DuckDB sniffs its head only)."""
    resolved = str(Path(path).resolve())
    conn = duckdb_connect_locked(resolved)
    try:
        described = _described(conn, resolved, dialect)
    finally:
        conn.close()
    width = header_width(resolved, dialect) if dialect.get("header", True) else None
    return described[:width] if width and width <= len(described) else described


def file_layout(path: Path | str, dialect: dict) -> tuple[list[str], int, dict | None]:
    """(column names, row count, ragged rows) of the whole file, in one scan.

    The names are the header's fields (DuckDB's names: blank/duplicate headers de-duplicated), never the
    extra fields of rows that have more than the header. Ragged rows, when there are any:
    {"rows": how many, "examples": the first ten row numbers (header = row 1), "header_fields",
    "max_fields", "repairable": how many a best-effort load would repair (see read_csv_relation_bound)};
    None otherwise (and for files without a header row). Sets `dialect["quoted_newlines"]`
    when values span lines (DuckDB then reads the file serially).
    """
    resolved = str(Path(path).resolve())
    conn = duckdb_connect_locked(resolved)
    try:
        rel_sql, params = read_csv_relation_sql(dialect)
        described = _described(conn, resolved, dialect)
        width = header_width(resolved, dialect) if dialect.get("header", True) else None
        if not width or width > len(described):
            (rows,) = conn.execute(f"SELECT count(*) FROM {rel_sql}", [resolved, *params]).fetchone()
            return described, int(rows), None
        _, count = ragged_sql(width)
        _, merged = repair_sql(width, "?")
        for attempt in range(2):
            options = positional_read_csv_options(dialect, width)
            names = ", ".join(f"{key} := ?" for key in options)
            try:
                # One parallel pass counts; row numbers (a window over the whole file, serial) only when
                # there are ragged rows to point at.
                rows, ragged, max_fields = conn.execute(
                    f"SELECT count(*), count(__n), max(__n) FROM (SELECT {count} AS __n FROM read_csv(?, {names}))",
                    [resolved, *options.values()],
                ).fetchone()
                examples, repairable = [], 0
                if ragged:  # the few ragged rows only: the window (serial) and the lists of their fields
                    examples, repairable = conn.execute(
                        f"SELECT list(__row ORDER BY __row)[1:10], count(*) FILTER (WHERE len({merged}) = {width}) "
                        f"FROM (SELECT *, row_number() OVER () + 1 AS __row, {count} AS __n "
                        f"FROM read_csv(?, {names})) WHERE __n IS NOT NULL",
                        [options["delim"] + " ", resolved, *options.values()],
                    ).fetchone()
                break
            except duckdb.Error as exc:
                if attempt or "quoted new lines" not in str(exc):
                    raise
                dialect["quoted_newlines"] = True  # stored with the dialect: every later read is serial
        layout = None
        if ragged:
            layout = {
                "rows": ragged,
                "examples": examples,
                "header_fields": width,
                "max_fields": max_fields,
                "repairable": repairable,
            }
        return described[:width], int(rows), layout
    finally:
        conn.close()


def read_csv_relation_bound(dialect: dict, path: str, bind, *, ragged_rows: str = "reject") -> tuple[str, bool]:
    """The file as a relation for a query whose parameters `bind(value) -> placeholder` collects:
    (SQL, whether it has the `__ragged` column).

    When the upload found rows with more fields than the header (`dialect["ragged"]`), the file is read
    positionally and each such row gets `__ragged`, a rejected-row problem {column, value: the row's
    fields, reason}, instead of values shifted into the wrong columns. With `ragged_rows="repair"`, a row
    whose fields that begin with a space, joined back onto the field before each (with the delimiter
    and the space they lost), make exactly the header's fields is loaded that way ("Rua do Paço, 67");
    the others are still rejected.
    """
    columns = list(dialect.get("columns") or [])
    if not (dialect.get("ragged") and dialect.get("header", True) and columns):
        options = duckdb_read_csv_options(dialect)
        args = ", ".join(f"{key} := {bind(value)}" for key, value in options.items())
        return f"read_csv({bind(path)}, {args})", False
    width = len(columns)
    options = positional_read_csv_options(dialect, width)
    args = ", ".join(f"{key} := {bind(value)}" for key, value in options.items())
    _, count = ragged_sql(width)
    delimiter = options["delim"]
    texts, merged = repair_sql(width, bind(delimiter + " "))
    repaired = f"(__n IS NOT NULL AND len(__m) = {width})" if ragged_rows == "repair" else "false"
    values = ", ".join(
        f"CASE WHEN __n IS NULL THEN c{i} WHEN {repaired} THEN nullif(__m[{i + 1}], '') END AS {quote_ident(name)}"
        for i, name in enumerate(columns)
    )
    why = f" fields, the header {width}: a value holds the delimiter without quotes"
    reason = f"{bind('the row has ')} || __n || {bind(why)}"
    problem = f"{{'column': '', 'value': array_to_string({texts}, {bind(delimiter)}), 'reason': {reason}}}"
    sql = (
        f"(SELECT {values}, CASE WHEN __n IS NOT NULL AND NOT {repaired} THEN {problem} END AS __ragged "
        f"FROM (SELECT *, CASE WHEN __n IS NOT NULL THEN {merged} END AS __m "
        f"FROM (SELECT *, {count} AS __n FROM read_csv({bind(path)}, {args}))))"
    )
    return sql, True
