"""Reads about the canonical tables beside their rows: the attributes registry, and the currency of the data
that pages need beside the KPI views."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from canonical.models import AttributeKey
from canonical.schema import get_table

CURRENCY_CACHE_SECONDS = 600
CURRENCY_SAMPLE_ROWS = 50_000  # per table: enough to see a second currency, bounded on a 10M-row table
# The tables whose money the dashboards sum (canonical/schema.py: each has a `currency` column).
MONEY_TABLES = ("canonical_orders", "canonical_invoices", "canonical_payments", "canonical_expenses")
DATA_CURRENCY_KEY = "canonical:data_currency:v1"


def attribute_keys(*, table: str) -> list[tuple[str, str]]:
    """The attributes registered on `table` (a canonical table name, e.g. "canonical_orders") as
    (key, type) pairs sorted by key; type is text | number | date | boolean. A key is read from the table's
    rows as `attributes ->> key` (text; cast a number with `::numeric`, a date with `::date`)."""
    get_table(table)  # an unknown table is a KeyError naming the known ones
    return list(AttributeKey.objects.filter(table=table).order_by("key").values_list("key", "type"))


def attribute_registry(*, tables: list[str] | None = None) -> dict[tuple[str, str], AttributeKey]:
    """{(table, key): registry row} for `tables` (all when None), with the upload that introduced each."""
    rows = AttributeKey.objects.select_related("source")
    if tables is not None:
        rows = rows.filter(table__in=tables)
    return {(row.table, row.key): row for row in rows}


def data_currency(reads=None) -> str:
    """The currency the data's money is in: the one code its currency columns hold, else DEFAULT_CURRENCY
    (none given, or several: a sum of mixed currencies has no one symbol). Cached; read from a bounded
    sample of each table so a page never scans a big table for it; forgotten when an execution commits.
    `reads`: a request's cache reads made ahead (`dashboards.cache.CacheReads`, asked for `DATA_CURRENCY_KEY`)."""
    found = None
    with contextlib.suppress(Exception):  # the cache only saves reads (Redis down: read the database)
        found = reads.get_many([DATA_CURRENCY_KEY]).get(DATA_CURRENCY_KEY) if reads else cache.get(DATA_CURRENCY_KEY)
    if found is None:
        found = _currencies_in_data()
        with contextlib.suppress(Exception):
            cache.set(DATA_CURRENCY_KEY, found, CURRENCY_CACHE_SECONDS)
    return found[0] if len(found) == 1 else settings.DEFAULT_CURRENCY


def _currencies_in_data() -> list[str]:
    from psycopg import sql

    parts = sql.SQL(" UNION ").join(
        sql.SQL("(SELECT upper(currency) FROM {} WHERE currency <> '' LIMIT %s)").format(sql.Identifier(t))
        for t in MONEY_TABLES
    )
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT DISTINCT * FROM ({}) c LIMIT 2").format(parts), [CURRENCY_SAMPLE_ROWS] * 4)
        return sorted(row[0] for row in cursor.fetchall())


def data_currency_forget() -> None:
    with contextlib.suppress(Exception):
        cache.delete(DATA_CURRENCY_KEY)
