"""The SQL of the engine lives in mappings/sql/*.sql; this is the one place that reads those files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from psycopg import sql

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def sql_text(name: str) -> str:
    """The text of mappings/sql/<name>, read once per process."""
    return (SQL_DIR / name).read_text()


def sql_file(name: str, **parts: sql.Composable) -> sql.Composed:
    """mappings/sql/<name> with its {placeholders} filled by psycopg parts (identifiers, never values)."""
    return sql.SQL(sql_text(name)).format(**parts)


def sql_statements(name: str) -> list[str]:
    """The statements of mappings/sql/<name>, split at ';' line ends, comment lines dropped."""
    statements = []
    for chunk in sql_text(name).split(";\n"):
        body = "\n".join(line for line in chunk.splitlines() if not line.lstrip().startswith("--")).strip()
        if body:
            statements.append(body)
    return statements
