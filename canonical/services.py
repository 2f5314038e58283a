"""Writes about the canonical tables themselves (not their rows): validating foreign keys after bulk loads, the
attributes registry."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DatabaseError, connection, transaction
from psycopg import errors as pg_errors
from psycopg import sql

from canonical.models import AttributeKey

logger = logging.getLogger(__name__)

_SQL_DIR = Path(__file__).resolve().parent / "sql"


@dataclass
class ForeignKeysValidated:
    validated: dict[str, int] = field(default_factory=dict)  # "table.constraint" -> milliseconds
    failed: dict[str, str] = field(default_factory=dict)  # "table.constraint" -> error


def canonical_foreign_keys_validate() -> ForeignKeysValidated:
    """VALIDATE every canonical foreign key a bulk load re-added NOT VALID, each in its own transaction.

    A bulk load (mappings/services/upsert.py) re-adds the foreign keys it dropped NOT VALID: PostgreSQL
    checks every write from then on, and the load's own rows reference only ids it resolved against the
    locked referent tables. This proves it for the rows already there, after the load committed:
    VALIDATE CONSTRAINT holds a SHARE UPDATE EXCLUSIVE lock, which blocks neither reads nor writes. A key
    that fails (a row referencing a missing id) stays NOT VALID, is logged as an error and reported in
    `failed`; the others are validated. A key dropped meanwhile by another bulk load is skipped.
    """
    result = ForeignKeysValidated()
    with connection.cursor() as cursor:
        cursor.execute((_SQL_DIR / "foreign_keys_unvalidated.sql").read_text())
        keys = cursor.fetchall()
    for table, name in keys:
        label = f"{table}.{name}"
        clock = time.monotonic()
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name))
                )
        except DatabaseError as exc:
            if isinstance(exc.__cause__, pg_errors.UndefinedObject | pg_errors.UndefinedTable):
                continue  # dropped since the list was read (another bulk load), re-added NOT VALID by it
            result.failed[label] = str(exc).strip().splitlines()[0]
            logger.error("foreign key %s is not valid: %s", label, result.failed[label])
            continue
        result.validated[label] = round((time.monotonic() - clock) * 1000)
    return result


class AttributeTypeConflict(ValueError):
    """Attributes whose type differs from the registered one; `errors` names each column."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class AttributeUse:
    key: str
    type: str  # text | number | date | boolean
    column: str  # the file's header it comes from


def attribute_type_problems(*, table: str, uses: list[AttributeUse], registered: dict[str, AttributeKey]) -> list[str]:
    """One line per use whose type differs from the registry's (`registered`: key → row)."""
    problems = []
    for use in uses:
        row = registered.get(use.key)
        if row is not None and row.type != use.type:
            origin = (
                f"upload #{row.source_id} ({row.source.name})" if row.source_id and row.source else "an earlier file"
            )
            problems.append(
                f"column {use.column!r} → {table}.attributes.{use.key}: the attribute holds {row.type} values "
                f"(since {origin}); this mapping gives {use.type}. Read the column as {row.type}, "
                f"or keep it under another key"
            )
    return problems


def attribute_keys_register(*, table: str, uses: list[AttributeUse], source_id: int | None) -> None:
    """Register `uses` on `table` (a key seen for the first time records `source_id` as its origin) inside the
    caller's transaction, and raise AttributeTypeConflict when a key is registered with another type. Two
    executions introducing one key wait for each other (the unique key), so one type wins and the other fails."""
    AttributeKey.objects.bulk_create(
        [AttributeKey(table=table, key=u.key, type=u.type, label=u.column[:255], source_id=source_id) for u in uses],
        ignore_conflicts=True,
    )
    registered = {
        row.key: row
        for row in AttributeKey.objects.select_related("source").filter(table=table, key__in=[u.key for u in uses])
    }
    problems = attribute_type_problems(table=table, uses=uses, registered=registered)
    if problems:
        raise AttributeTypeConflict(problems)
