"""PostgreSQL row-level security on KPI summary tables: the second wall behind `dashboards.selectors`.

Dashboards read KPI data as `KPI_READER_ROLE` (SET LOCAL ROLE inside the read's transaction), a role that
owns nothing, so the policies below apply to it even when the application logs in as the tables' owner or
a superuser. The policies read the scope the transaction names (`SETTING_SCOPE`, set from the caller's RowScope by
`dashboards.kpi.read`): a key of the scope stored once in `kpi_read_scopes` (`kpi_scope_store`), whose employee ids
the policies and the reads' own predicates take from there (`SCOPE_*`, migration 0029), so a read carries a short
key, not hundreds of ids. A query that forgot its WHERE clause still sees only the caller's rows; a session that sets
another key sees nothing more unless it holds another scope's key, an HMAC under the server's secret
(`scope_read_key`), which the reader role cannot list.
Materialized views cannot carry policies: they are only granted to the reader (and reported).
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import DatabaseError, connection, connections, transaction
from django.utils.crypto import salted_hmac
from psycopg import sql

from dashboards.kpi.registry import KPI_VIEWS, TEAM_SNAPSHOTS

if TYPE_CHECKING:
    from accounts.selectors import RowScope

logger = logging.getLogger(__name__)

KPI_READER_ROLE = "ledgerlight_kpi_reader"
SETTING_SCOPE = "ledgerlight.kpi_scope"
# SQLSTATE of a read whose scope key is not in kpi_read_scopes yet (a new scope, or a standby behind the primary).
SCOPE_UNKNOWN = "LL001"
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


class ScopeIds(frozenset):
    """The caller's whole scope as the employee ids a statement filters on (`dashboards.selectors._effective_ids`):
    the statement names them as stored for the scope its transaction set (`SCOPE_EMPLOYEE_IDS`), so they are not sent
    again. Any narrower set (a ?rep= or ?team= filter) is a plain frozenset, sent as its ids."""


# The scope the transaction set (`SETTING_SCOPE`), from kpi_read_scopes: all rows or not, its employee ids, their digest
# (NULL for no setting or an unknown key: no rows). Scalar subqueries: InitPlans, evaluated once per statement (the
# cast makes `= ANY(...)` take the array, not a subquery's rows). The ids come out as a plain in-memory array: stored,
# a VP's are compressed, and `= ANY` of the stored value decompresses them for every row it tests (537 team rows:
# 3.4 ms instead of 0.3); array_cat returns its argument detoasted.
_OF_SCOPE = "FROM kpi_read_scopes s WHERE s.scope_key = current_setting('ledgerlight.kpi_scope', true)"
SCOPE_ALL_ROWS = sql.SQL(f"coalesce((SELECT s.all_rows {_OF_SCOPE}), false)")
SCOPE_EMPLOYEE_IDS = sql.SQL(f"(SELECT array_cat(s.employee_ids, '{{}}'::bigint[]) {_OF_SCOPE})::bigint[]")
SCOPE_MEMBERS_DIGEST = sql.SQL(f"(SELECT s.members_digest {_OF_SCOPE})")


def scope_read_key(scope: RowScope) -> str:
    """The key a read names `scope` by (`SETTING_SCOPE`): an HMAC under SECRET_KEY of what the scope sees, so the
    same scope always has the same key and nobody without the secret can make up the key of another; '' for an empty
    scope (it is never stored: no rows). Kept on the scope: one HMAC per scope object."""
    if scope.is_empty:
        return ""
    kept = scope.__dict__.get("_read_key")
    if kept is None:
        what = "all" if scope.all_rows else "ids:" + scope.ids_digest()
        kept = salted_hmac("ledgerlight.kpi_scope", what, algorithm="sha256").hexdigest()
        object.__setattr__(scope, "_read_key", kept)
    return kept


# Keys this process stored (bounded): a scope computed again (its cache expired) is not stored again. One that is gone
# since (rows rolled back, a cleanup) only costs the read a retry (`dashboards.kpi.read._scoped_read`).
_stored_keys: set[str] = set()
_STORED_KEYS_KEPT = 10_000
SCOPES_KEPT_DAYS = 7  # kpi_read_scopes_prune: a week's scopes stay; older ones in use cost one retry when next read


def kpi_scope_ensure(scope: RowScope) -> None:
    """Store `scope` on the primary unless this process did already: called where a scope is computed, so that its
    first read, on the standby too once replayed, finds it."""
    if scope_read_key(scope) not in _stored_keys:
        kpi_scope_store(scope)


def kpi_scope_store(scope: RowScope, *, using: str = "default") -> str:
    """Store `scope` under its key in kpi_read_scopes (once: a stored key never changes what it names) and return the
    key. On the primary (`default`): a standby gets it by replay. The members' digest is the team snapshots' own
    (md5 of the sorted ids joined by commas: dashboards/sql/kpi_team_snapshot.sql), so a read finds a team by it."""
    key = scope_read_key(scope)
    if not key:
        return key
    with connections[using].cursor() as cursor:
        cursor.execute(
            _sql("kpi_read_scope_store.sql"),
            {"key": key, "all_rows": scope.all_rows, "ids": [] if scope.all_rows else sorted(scope.employee_ids)},
        )
    if len(_stored_keys) >= _STORED_KEYS_KEPT:
        _stored_keys.clear()
    _stored_keys.add(key)
    return key


def kpi_read_scopes_prune(*, older_than_days: int = SCOPES_KEPT_DAYS) -> int:
    """Delete the read scopes stored more than `older_than_days` ago (what hierarchy changes left behind); returns how
    many. Safe at any time: a scope still in use is stored again by its next read."""
    with connections["default"].cursor() as cursor:
        cursor.execute(_sql("kpi_read_scopes_prune.sql"), {"days": older_than_days})
        return cursor.rowcount


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
    # Every policy below reads the stored scopes: the reader reads there the row of its own key only.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql.SQL(_sql("kpi_read_scopes_policy.sql")).format(role=role))
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
                        table=table,
                        role=role,
                        column=sql.Identifier(column),
                        all_rows=SCOPE_ALL_ROWS,
                        employee_ids=SCOPE_EMPLOYEE_IDS,
                    )
                else:
                    statement = sql.SQL(_sql("kpi_rls_unscoped.sql")).format(
                        table=table, role=role, all_rows=SCOPE_ALL_ROWS
                    )
                cursor.execute(statement)
                outcome[name] = "policy"
            else:
                cursor.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(table, role))
                outcome[name] = "grant only"
                logger.warning("KPI view %s is not a table: no row-level-security policy possible", name)
    return outcome
