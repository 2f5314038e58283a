"""Write a migration with the DDL that the declared KPI views (dashboards/kpi/sql/NAME.toml) need.

Compares the declarations with the migrated database (run `migrate` first), like `makemigrations` compares
models with the migration state: a new view gets its CREATE TABLE and indexes, a new column its ADD COLUMN.
`--check` writes nothing and fails when a migration would be written (the test suite runs it).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dashboards.kpi.ddl import kpi_schema_differences

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def kpi_migration_text(statements: list[str], dependency: str) -> str:
    """The source of a migration running `statements` after `dependency` (a dashboards migration's name)."""
    body = "".join(f"    {statement!r},\n" for statement in statements)
    return (
        "# Written by `manage.py kpi_makemigration` from the KPI view declarations (dashboards/kpi/sql/*.toml).\n\n"
        "from django.db import migrations\n\n"
        f"FORWARD = [\n{body}]\n\n\n"
        "class Migration(migrations.Migration):\n"
        f'    dependencies = [("dashboards", {dependency!r})]\n\n'
        "    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]\n"
    )


class Command(BaseCommand):
    help = "Write a dashboards migration with the DDL the declared KPI views need (--check: only report)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if a migration would be written")
        parser.add_argument("--name", default="kpi_views", help="suffix of the migration's file name")

    def handle(self, *args, **options):
        statements, problems = kpi_schema_differences()
        if problems:
            raise CommandError("KPI tables differ from their declarations:\n  " + "\n  ".join(problems))
        if not statements:
            self.stdout.write("No changes: every declared KPI view has its table.")
            return
        if options["check"]:
            raise CommandError("KPI views need a migration:\n  " + "\n  ".join(statements))
        latest = sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.py"))[-1]
        path = MIGRATIONS_DIR / f"{int(latest[:4]) + 1:04d}_{options['name']}.py"
        path.write_text(kpi_migration_text(statements, latest), encoding="utf-8")
        self.stdout.write(f"Wrote {path.name} ({len(statements)} statements); run migrate to apply it.")
