"""The scoped read transport: statements run as the KPI reader role, with the caller's scope set for RLS."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, connections, transaction
from psycopg import errors as pg_errors
from psycopg import pq as psycopg_pq
from psycopg import sql
from psycopg.types.numeric import FloatLoader
from psycopg.types.string import TextLoader

from accounts.selectors import RowScope
from config.replica import PRIMARY
from dashboards.kpi.registry import KPI_VIEWS, TEAM_SNAPSHOTS, aggregates_of, team_aggregate_of
from dashboards.kpi.rls import (
    KPI_READER_ROLE,
    SCOPE_UNKNOWN,
    SETTING_SCOPE,
    kpi_rls_ensure,
    kpi_scope_store,
    scope_read_key,
)

# Memory a KPI read may hash in, for its transaction only: the server's default sorts a manager's grouped
# top products on disk. A read groups at most a few tables' scoped rows.
READ_WORK_MEM = "16MB"


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # money is numeric(14,2): exact in a double's 15 significant digits
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class ReadLimit:
    """A read that may be stopped: after `ms` (statement_timeout), or by its user (`read_cancel`, which finds it by the
    comment that opens its script: the user's id and a run id the page chose, 32 hex digits)."""

    ms: int
    user_id: int = 0
    run: str = ""

    def __post_init__(self):
        if self.run and not RUN_ID.fullmatch(self.run):
            raise ValueError("a run id is 32 hex digits")

    @property
    def marker(self) -> str:
        return f"ll-read u{int(self.user_id)} r{self.run}" if self.run else ""


RUN_ID = re.compile(r"[0-9a-f]{32}")


def read_stopped_reason(exc: BaseException) -> str | None:
    """'timeout' or 'cancelled' when a database error is a limited read stopped (`ReadLimit`), else None."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    if not isinstance(cause, pg_errors.QueryCanceled):
        return None
    return "timeout" if "statement timeout" in str(cause) else "cancelled"


_reader_role_found: set[str] = set()  # aliases whose server has the reader role (a standby has the primary's)


def _reader_role_available(cursor, using: str) -> bool:
    if using not in _reader_role_found:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [KPI_READER_ROLE])
        if cursor.fetchone() is not None:
            _reader_role_found.add(using)
    return using in _reader_role_found


def _scoped_read(
    scope: RowScope,
    statements: list[tuple[sql.Composed, list[Any]]],
    *,
    using: str = PRIMARY,
    limit: ReadLimit | None = None,
) -> list[list[dict]]:
    """`_scoped_read_once`; a scope read for the first time (its key not stored yet, or not replayed yet by the standby)
    is stored on the primary (`kpi_scope_store`) and read there: a new scope costs one failed setup and one insert."""
    try:
        return _scoped_read_once(scope, statements, using=using, limit=limit)
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != SCOPE_UNKNOWN:
            raise
    kpi_scope_store(scope)
    return _scoped_read_once(scope, statements, using=PRIMARY, limit=limit)


def _scoped_read_once(
    scope: RowScope,
    statements: list[tuple[sql.Composed, list[Any]]],
    *,
    using: str = PRIMARY,
    limit: ReadLimit | None = None,
) -> list[list[dict]]:
    """Run statements as the KPI reader role, with the scope's key set for the RLS policies, in ONE round trip.

    The role switch and the scope settings are transaction-local (`set_config(..., true)`), so they are
    sent with the reads as one multi-statement query: `BEGIN READ ONLY; <settings>; <scope check>; <reads>; COMMIT`.
    Django's psycopg cursor binds values on the client (psycopg quotes them; nothing is formatted by us),
    which is what allows several statements with parameters in one execute: one round trip, not one per
    statement (BEGIN, SET ROLE, settings, the read, reset, RESET ROLE, COMMIT). Inside an outer
    transaction (tests, ATOMIC blocks) the read runs in a savepoint and resets the settings and role, which
    would otherwise outlive it until the outer transaction ends. `using`: the database alias (`replica`, a
    standby: the settings and the role work there as on the primary, so the RLS policies filter the same rows).
    `limit`: each read statement stops after `limit.ms` (statement_timeout, local to the transaction), and the script
    opens with the limit's marker comment (what `read_cancel` finds it by in pg_stat_activity): QueryCanceled then.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        as_reader = _reader_role_available(cursor, using)
        _reader_cursor(cursor)
        nested = connection.in_atomic_block
        # The scope by its key (dashboards.kpi.rls); checked once set (`kpi_scope_check`, after this SELECT): an
        # unknown key stops the read (SCOPE_UNKNOWN) before any statement.
        setup = [sql.SQL("set_config({}, %s, true)").format(sql.Literal(SETTING_SCOPE))]
        setup.append(sql.SQL("set_config('work_mem', %s, true)"))
        # A KPI read is small by design: compiling it (JIT, 30-60 ms when a plan's estimate passes jit_above_cost,
        # as a distinct count's per-group subplan does) costs more than it ever saves.
        setup.append(sql.SQL("set_config('jit', 'off', true)"))
        setup_params: list[Any] = [scope_read_key(scope), READ_WORK_MEM]
        if as_reader:
            setup.append(sql.SQL("set_config('role', %s, true)"))
            setup_params.append(KPI_READER_ROLE)
        if limit is not None:
            setup.append(sql.SQL("set_config('statement_timeout', %s, true)"))
            setup_params.append(f"{int(limit.ms)}ms")
        parts: list[sql.Composable] = [] if nested else [sql.SQL("BEGIN READ ONLY")]
        parts.append(sql.SQL("SELECT ") + sql.SQL(", ").join(setup))
        parts.append(sql.SQL("SELECT kpi_scope_check()"))
        params: list[Any] = list(setup_params)
        for statement, statement_params in statements:
            parts.append(statement)
            params += statement_params
        if nested:
            parts.append(sql.SQL("SELECT set_config({}, '', true)").format(sql.Literal(SETTING_SCOPE)))
            parts.append(sql.SQL("SET LOCAL work_mem TO DEFAULT"))
            parts.append(sql.SQL("SET LOCAL jit TO DEFAULT"))
            if limit is not None:
                parts.append(sql.SQL("SET LOCAL statement_timeout TO DEFAULT"))
            if as_reader:
                parts.append(sql.SQL("RESET ROLE"))
        else:
            parts.append(sql.SQL("COMMIT"))
        script = sql.SQL("; ").join(parts)
        if limit is not None and limit.marker:
            # First in the text: pg_stat_activity keeps only the first track_activity_query_size bytes of it.
            script = sql.SQL("/* {} */ ").format(sql.SQL(limit.marker)) + script
        if nested:
            with transaction.atomic(using=using):
                cursor.execute(script, params)
                return _script_results(cursor, skip=2, count=len(statements))
        try:
            cursor.execute(script, params)
            return _script_results(cursor, skip=3, count=len(statements))
        except BaseException:
            # The script's own transaction failed half-way: end it before the connection is used again.
            if connection.connection.info.transaction_status != psycopg_pq.TransactionStatus.IDLE:
                cursor.execute("ROLLBACK")
            raise


# Result types that come out of the reader JSON-ready (see `_reader_cursor`); any other type is converted.
_JSON_READY_TYPES = {"numeric", "date", "int2", "int4", "int8", "float4", "float8", "text", "varchar", "bool"}


def _reader_cursor(cursor) -> None:
    """Make the cursor load rows JSON-ready: numeric as float, date as its ISO text.

    float(text) is the same correctly rounded double as float(Decimal(text)), and PostgreSQL prints dates
    as YYYY-MM-DD (DateStyle ISO, its default), which is `date.isoformat()`: the same values as converting
    after loading, without building a Decimal and a date per value and converting them again (a manager's
    monthly read is a thousand rows).
    """
    cursor.cursor.adapters.register_loader("numeric", FloatLoader)
    cursor.cursor.adapters.register_loader("date", TextLoader)


def _script_results(cursor, *, skip: int, count: int) -> list[list[dict]]:
    """The result sets of the `count` reads of a multi-statement query, after `skip` leading statements."""
    for _ in range(skip):
        cursor.nextset()
    types = cursor.connection.adapters.types
    results: list[list[dict]] = []
    for i in range(count):
        names = [d.name for d in cursor.description]
        kinds = [getattr(types.get(d.type_code), "name", None) for d in cursor.description]
        rows = cursor.fetchall()
        if all(kind in _JSON_READY_TYPES for kind in kinds):
            results.append([dict(zip(names, row, strict=True)) for row in rows])
        else:
            results.append([{n: _json_value(v) for n, v in zip(names, row, strict=True)} for row in rows])
        if i < count - 1:
            cursor.nextset()
    return results


def kpi_read_with_repair(
    scope: RowScope,
    statements,
    view_names: list[str],
    *,
    using: str = PRIMARY,
    limit: ReadLimit | None = None,
) -> list[list[dict]]:
    """Read on `using`; a table missing its policy or grant is repaired on the PRIMARY (DDL never runs on the
    read connection, which may be a standby) and the read is retried there: a standby gets the repair only once
    it has replayed it."""
    try:
        return _scoped_read(scope, statements, using=using, limit=limit)
    except DatabaseError as exc:
        if not isinstance(exc.__cause__, pg_errors.InsufficientPrivilege):
            raise
        # A KPI table (re)created since the last policy pass: put the policy and grant on it, then retry. A read
        # may also touch the view's rollup helper (a date range) or one of its aggregates: those too.
        tables = []
        for name in view_names:
            view = KPI_VIEWS.get(name)
            related = [view.rollup_of] if view and view.rollup_of else []
            related += [a.name for a in aggregates_of(view)] if view else []
            related += [TEAM_SNAPSHOTS] if view and team_aggregate_of(view) else []
            tables += [t for t in (name, *related) if t not in tables]
        kpi_rls_ensure(tables)  # on the primary (dashboards.kpi.rls uses `default`)
        return _scoped_read(scope, statements, using=PRIMARY, limit=limit)


def read_cancel(*, user_id: int, run: str, using: str = PRIMARY) -> int:
    """Cancel the user's limited read `run` (`ReadLimit`) if it is running on `using`: how many were cancelled.

    Found by its marker comment in pg_stat_activity, so only a backend running that very script is signalled (never
    a backend id kept from earlier: behind a pooler it may serve another client's query by then)."""
    marker = ReadLimit(ms=0, user_id=user_id, run=run).marker
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_cancel_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE %s",
            [f"/* {marker} */%"],
        )
        return cursor.fetchone()[0]
