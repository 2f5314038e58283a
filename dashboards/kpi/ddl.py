"""The DDL of a declared KPI view, and what the database lacks of the declarations (`kpi_makemigration`)."""

from __future__ import annotations

from django.db import connection
from psycopg import sql

from dashboards.kpi.registry import DECLARED_VIEWS, KpiView, get_view

# Registry column type -> PostgreSQL type of the summary table's column.
PG_TYPES = {
    "date": "date",
    "text": "text",
    "integer": "bigint",
    "money": "numeric",
    "number": "numeric",
    "boolean": "boolean",
    "json": "jsonb",  # a dataset's attributes
}


def _text(statement: sql.Composable) -> str:
    return statement.as_string(connection.connection)


def kpi_view_ddl(view: KpiView) -> list[str]:
    """CREATE TABLE of the view's summary table, its unique key index and (rollups) its emptied-rows index."""
    table = sql.Identifier(view.name)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_TYPES[t])) for c, t in view.columns.items()
    )
    statements = [sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(table, columns)]
    if view.key:
        statements.append(
            sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({}) NULLS NOT DISTINCT").format(
                sql.Identifier(f"{view.name}_key"), table, sql.SQL(", ").join(sql.Identifier(k) for k in view.key)
            )
        )
    if view.count_column:
        statements.append(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({}) WHERE {} = 0").format(
                sql.Identifier(f"{view.name}_emptied"),
                table,
                sql.Identifier(view.count_column),
                sql.Identifier(view.count_column),
            )
        )
    return [_text(s) for s in statements]


def _table_columns(name: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [name],
        )
        return dict(cursor.fetchall())


def _unique_keys(name: str) -> list[set[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(a.attname::text) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid AND c.relnamespace = current_schema()::regnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
            "WHERE c.relname = %s AND i.indisunique GROUP BY i.indexrelid",
            [name],
        )
        return [set(row[0]) for row in cursor.fetchall()]


def kpi_schema_differences(names: tuple[str, ...] | list[str] = DECLARED_VIEWS) -> tuple[list[str], list[str]]:
    """(DDL to add what the database lacks of the declared views, problems that DDL cannot fix by adding).

    A missing table gets its whole DDL; a missing column an ADD COLUMN; a column of another type, or a key
    without its unique index, is a problem to resolve by hand in a migration.
    """
    statements: list[str] = []
    problems: list[str] = []
    for name in names:
        view = get_view(name)
        existing = _table_columns(name)
        if not existing:
            statements += kpi_view_ddl(view)
            continue
        for column, kind in view.columns.items():
            if column not in existing:
                statements.append(
                    _text(
                        sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                            sql.Identifier(name), sql.Identifier(column), sql.SQL(PG_TYPES[kind])
                        )
                    )
                )
            elif existing[column] != PG_TYPES[kind]:
                problems.append(f"{name}.{column} is {existing[column]}, declared {kind} ({PG_TYPES[kind]})")
        extra = sorted(set(existing) - set(view.columns))
        if extra:
            problems.append(f"{name} has undeclared column(s) {', '.join(extra)}")
        if view.key and set(view.key) not in _unique_keys(name):
            problems.append(f"{name} has no unique index on its key ({', '.join(view.key)})")
    return statements, problems
