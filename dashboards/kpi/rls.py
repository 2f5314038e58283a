"""PostgreSQL row-level security on KPI summary tables: the second wall behind `dashboards.selectors`.

Dashboards read KPI data as `KPI_READER_ROLE` (SET LOCAL ROLE inside the read's transaction), a role that
owns nothing, so the policies below apply to it even when the application logs in as the tables' owner or
a superuser. The policies read two per-transaction settings that the one row-filtering function sets
from the caller's RowScope; a query that forgot its WHERE clause still sees only the caller's rows.
Materialized views cannot carry policies: they are only granted to the reader (and reported).
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from psycopg import sql

from dashboards.kpi.registry import KPI_VIEWS, TEAM_SNAPSHOTS

logger = logging.getLogger(__name__)

KPI_READER_ROLE = "ledgerlight_kpi_reader"
SETTING_ALL_ROWS = "ledgerlight.kpi_all_rows"
SETTING_EMPLOYEE_IDS = "ledgerlight.kpi_employee_ids"
_SQL_DIR = Path(__file__).resolve().parent.parent / "sql"

# Tables that dashboards read besides the KPI views, with the column their policy filters on.
# Team aggregates (registry) and their hierarchy snapshots are walled by team_id, the team's own employee: a reader
# sees a team's rows only when the team's employee is in their scope. Why that is enough: a manager's scope is their
# whole subtree, and a team inside it covers only employees below that team's employee, so inside it too (a rep's
# scope holds no team: a rep has no reports). The team rows sum the hierarchy of the snapshot they were built with;
# after an employees upload, until the rebuild it queues commits, a team may still sum a rep who moved out of it.
# The read itself (dashboards.selectors) never serves that: it reads a team only when the caller's employee ids are
# exactly the snapshot's members of that team.
EXTRA_SCOPED_TABLES = {TEAM_SNAPSHOTS: "team_id"}


@cache
def _sql(name: str) -> str:
    return (_SQL_DIR / name).read_text()


def kpi_relation_kind(name: str) -> str | None:
    """'r'/'p' (table), 'm' (materialized view), 'v' (view) or None when it does not exist."""
    with connection.cursor() as cursor:
        cursor.execute(_sql("kpi_relation_kind.sql"), {"name": name})
        row = cursor.fetchone()
    return row[0] if row else None


def kpi_reader_role_ensure() -> bool:
    """Create the reader role if missing. False when the database user may not create roles."""
    role = sql.Identifier(KPI_READER_ROLE)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(_sql("kpi_reader_role.sql")).format(role=role, role_name=sql.Literal(KPI_READER_ROLE))
            )
    except DatabaseError as exc:
        logger.warning("KPI row-level security is off: cannot create role %s (%s)", KPI_READER_ROLE, exc)
        return False
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.SQL(_sql("kpi_reader_grant.sql")).format(role=role))
    except DatabaseError:
        pass  # already a member, or a superuser (who may SET ROLE to anything anyway)
    return True


def kpi_rls_ensure(view_names: list[str] | None = None) -> dict[str, str]:
    """Put the row-scope policy on every registered KPI relation that exists (idempotent).

    Call after creating or re-creating a KPI table (migrations do it through post_migrate; the reader
    also calls it when it finds a table it may not read). Returns {view: "policy" | "grant only" |
    "missing"} for the log.
    """
    if not kpi_reader_role_ensure():
        return {}
    outcome: dict[str, str] = {}
    role = sql.Identifier(KPI_READER_ROLE)
    for name in view_names or [*KPI_VIEWS, *EXTRA_SCOPED_TABLES]:
        view = KPI_VIEWS.get(name)
        column = view.scope_column if view else EXTRA_SCOPED_TABLES.get(name)
        kind = kpi_relation_kind(name) if view or column else None
        if kind is None:
            outcome[name] = "missing"
            continue
        table = sql.Identifier(name)
        with transaction.atomic(), connection.cursor() as cursor:
            if kind in ("r", "p"):
                if column:
                    statement = sql.SQL(_sql("kpi_rls_scoped.sql")).format(
                        table=table, role=role, column=sql.Identifier(column)
                    )
                else:
                    statement = sql.SQL(_sql("kpi_rls_unscoped.sql")).format(table=table, role=role)
                cursor.execute(statement)
                outcome[name] = "policy"
            else:
                cursor.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(table, role))
                outcome[name] = "grant only"
                logger.warning("KPI view %s is not a table: no row-level-security policy possible", name)
    return outcome
