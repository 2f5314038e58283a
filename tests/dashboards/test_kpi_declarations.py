"""A KPI view is declared once (dashboards/kpi/sql/NAME.sql + NAME.toml); the migrations create it as declared."""

from __future__ import annotations

import tomllib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from dashboards.kpi.ddl import kpi_schema_differences, kpi_view_ddl
from dashboards.kpi.registry import CTES_DIR, DECLARED_VIEWS, KPI_VIEWS, SQL_DIR, KpiView
from dashboards.management.commands.kpi_makemigration import kpi_migration_text
from dashboards.services.refresh import view_sql

pytestmark = pytest.mark.django_db

NEW_VIEW = KpiView(
    name="test_declared_view",
    description="A view declared but not migrated yet.",
    columns={"month": "date", "sales_rep_id": "integer", "revenue": "money", "order_count": "integer"},
    depends_on=("canonical_orders",),
    key=("month", "sales_rep_id"),
    count_column="order_count",
)


def test_every_sql_file_has_its_declaration_and_every_declaration_its_sql_file():
    sql_files = {p.stem for p in SQL_DIR.glob("*.sql")}
    declarations = {p.stem for p in SQL_DIR.glob("*.toml")}
    assert sql_files == declarations == set(DECLARED_VIEWS)


def test_every_shared_with_clause_is_continued_by_two_views_or_more_and_runs_with_each():
    continued = {
        name: [v for v in DECLARED_VIEWS if KPI_VIEWS[v].ctes == name]
        for name in (p.stem for p in CTES_DIR.glob("*.sql"))
    }
    assert continued and all(len(views) >= 2 for views in continued.values()), continued
    assert {KPI_VIEWS[v].ctes for v in DECLARED_VIEWS} - {None} == set(continued)
    with connection.cursor() as cursor:
        for name, views in continued.items():
            for view in views:
                text = view_sql(view)
                assert text.startswith((CTES_DIR / f"{name}.sql").read_text())
                cursor.execute(sql.SQL("SELECT * FROM ({}) q LIMIT 0").format(sql.SQL(text)))
                assert [c.name for c in cursor.description] == list(KPI_VIEWS[view].columns)


def test_the_registry_holds_each_declaration_as_written():
    for name in DECLARED_VIEWS:
        declaration = tomllib.loads((SQL_DIR / f"{name}.toml").read_text())
        view = KPI_VIEWS[name]
        assert view.columns == declaration["columns"]
        assert view.key == tuple(declaration.get("key", ()))
        assert view.strategy == declaration.get("strategy", "full")


def test_the_migrations_create_every_declared_kpi_view_as_declared():
    assert kpi_schema_differences() == ([], [])
    call_command("kpi_makemigration", "--check")  # raises CommandError when a migration would be written


def test_a_declared_view_without_a_table_gets_its_ddl_and_then_matches(monkeypatch):
    monkeypatch.setitem(KPI_VIEWS, NEW_VIEW.name, NEW_VIEW)
    statements, problems = kpi_schema_differences([NEW_VIEW.name])
    assert problems == []
    assert statements == kpi_view_ddl(NEW_VIEW)
    assert statements[0].startswith('CREATE TABLE IF NOT EXISTS "test_declared_view" ("month" date')
    assert 'ON "test_declared_view" ("month", "sales_rep_id") NULLS NOT DISTINCT' in statements[1]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    assert kpi_schema_differences([NEW_VIEW.name]) == ([], [])


def test_a_column_of_another_type_is_a_problem_not_a_migration(monkeypatch):
    monkeypatch.setitem(KPI_VIEWS, NEW_VIEW.name, NEW_VIEW)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_declared_view (month date, sales_rep_id text, revenue numeric)")
    statements, problems = kpi_schema_differences([NEW_VIEW.name])
    assert statements == ['ALTER TABLE "test_declared_view" ADD COLUMN "order_count" bigint']
    assert problems == [
        "test_declared_view.sales_rep_id is text, declared integer (bigint)",
        "test_declared_view has no unique index on its key (month, sales_rep_id)",
    ]


def test_check_fails_when_a_declared_view_has_no_table(monkeypatch):
    monkeypatch.setattr(
        "dashboards.management.commands.kpi_makemigration.kpi_schema_differences",
        lambda: (kpi_view_ddl(NEW_VIEW), []),
    )
    with pytest.raises(CommandError, match="KPI views need a migration"):
        call_command("kpi_makemigration", "--check")


def test_the_written_migration_is_python_that_runs_the_ddl():
    text = kpi_migration_text(kpi_view_ddl(NEW_VIEW), "0014_top_customers_first_line_teams")
    namespace: dict = {}
    exec(compile(text, "0015_kpi_views.py", "exec"), namespace)
    assert namespace["FORWARD"] == kpi_view_ddl(NEW_VIEW)
    assert namespace["Migration"].dependencies == [("dashboards", "0014_top_customers_first_line_teams")]
