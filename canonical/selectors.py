"""Reads about the canonical tables themselves (not their rows): the attributes registry."""

from __future__ import annotations

from canonical.models import AttributeKey
from canonical.schema import get_table


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
