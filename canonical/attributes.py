"""Attributes: the rules every part agrees on (keys, types, how a mapping names one).

A column of a file that no canonical column holds can be kept as an attribute of the rows it describes:
`<table>.attributes` (jsonb) maps a key to a typed value — text, number (a JSON number), date (an ISO
`YYYY-MM-DD` string) or boolean. A key is the header in lower snake case ("Sub-Category" → "sub_category"),
never a column name of its table. A field mapping targets an attribute with `canonical_col` =
`attributes.<key>`; the key's type comes from the mapping's transform (`attribute_type`). The registry
(`canonical.models.AttributeKey`) holds each (table, key)'s type: a file that gives another type is a
mapping error naming the column.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import cache

from canonical.schema import TABLES_BY_NAME

ATTRIBUTE_TYPES = ("text", "number", "date", "boolean")
PREFIX = "attributes."
KEY_MAX_LENGTH = 48
_KEY = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
# The engine's value type of a compiled transform → the attribute type that stores it. A timestamp keeps its
# time only as text: a date attribute is a calendar day.
VALUE_TYPE_TO_ATTRIBUTE = {
    "text": "text",
    "number": "number",
    "integer": "number",
    "money": "number",
    "date": "date",
    "timestamp": "date",
    "boolean": "boolean",
}


def attribute_key_normalize(header: str) -> str:
    """'Sub-Category' → 'sub_category', 'shipMode' → 'ship_mode', 'Région' → 'region'. A header with no latin
    letter or digit ('地区') gets 'column_' + a short hash of it, so the key is stable across files."""
    text = _CAMEL.sub(r"\1_\2", (header or "").replace("ß", "ss"))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = text.replace("%", " percent ").replace("#", " number ").replace("&", " and ")
    key = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:KEY_MAX_LENGTH].rstrip("_")
    if not key:
        key = "column_" + hashlib.sha256((header or "").encode()).hexdigest()[:8]
    return key


@cache
def reserved_names(table: str) -> frozenset[str]:
    """Names an attribute key of `table` may not take: its schema columns and every model field (by name and
    by database column: `customer` and `customer_id`, `source_row`, `attributes`, …)."""
    from django.apps import apps

    names = set(TABLES_BY_NAME[table].column_names)
    for django_field in apps.get_model(TABLES_BY_NAME[table].model)._meta.concrete_fields:
        names.update({django_field.name, django_field.column})
    return frozenset(names)


def attribute_key(canonical_col: str | None) -> str | None:
    """The key a mapping's `canonical_col` names (`attributes.region` → `region`), None for a column."""
    if canonical_col and canonical_col.startswith(PREFIX):
        return canonical_col[len(PREFIX) :]
    return None


def attribute_key_problem(table: str, key: str) -> str | None:
    """Why `key` cannot be an attribute of `table` (None when it can)."""
    if not _KEY.match(key) or len(key) > KEY_MAX_LENGTH:
        return (
            f"attribute key {key!r} must be lower snake case (a-z, 0-9, _), at most {KEY_MAX_LENGTH} characters, "
            f"e.g. {attribute_key_normalize(key)!r}"
        )
    if key in reserved_names(table):
        return (
            f"attribute key {key!r} is a column of {table}: map the column to {table}.{key}, or keep it as "
            f"another attribute, e.g. {key}_attr"
        )
    return None


def attribute_key_free(table: str, header: str, taken: set[str]) -> str:
    """The key the proposer gives `header` on `table`: its normalized form, suffixed `_attr` when that is a
    column of the table, then `_2`, `_3`, … when another column of the file has it already."""
    key = attribute_key_normalize(header)
    if key in reserved_names(table):
        key = f"{key[: KEY_MAX_LENGTH - 5]}_attr"
    candidate, n = key, 2
    while candidate in taken or candidate in reserved_names(table):
        suffix = f"_{n}"
        candidate, n = f"{key[: KEY_MAX_LENGTH - len(suffix)]}{suffix}", n + 1
    return candidate
