"""What a sequence of loads leaves in the canonical tables, read in a form two orders of loading can compare, and
rolled back: the load-order tests (tests/canonical/test_marketplace_six_files.py, tests/mappings/test_ownership.py)
share it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.apps import apps
from django.db import connection, transaction

from canonical.schema import TABLES


def canonical_tables() -> dict[str, dict]:
    """Every canonical table by external id, surrogate ids replaced by what they stand for (they differ between
    orders of loading): references by the referent's external id, provenance by the upload's file name."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name FROM data_sources")
        names = dict(cursor.fetchall())
    external = {t.name: dict(apps.get_model(t.model).objects.values_list("id", "external_id")) for t in TABLES}
    tables = {}
    for table in TABLES:
        rows = {}
        for row in apps.get_model(table.model).objects.values():
            row.pop("id")
            row["source_id"] = names.get(row["source_id"])
            for column, referent in table.references.items():
                row[column] = external[referent].get(row[column])
            rows[row["external_id"]] = row
        tables[table.name] = rows
    return tables


def revenue_per_year() -> dict[str, Decimal]:
    """Revenue by the year of its order's date ("2017"), "undated" for lines whose order has none (totals of 0 left
    out)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(extract(year FROM order_date)::int::text, 'undated'), sum(revenue) "
            "FROM kpi_order_revenue GROUP BY 1 HAVING sum(revenue) <> 0"
        )
        return dict(cursor.fetchall())


class _Rollback(Exception):
    pass


def loaded_then_rolled_back(load: Callable[[], None]) -> dict:
    """Run `load` in a transaction, read {"tables": canonical_tables(), "revenue": revenue_per_year()} of what it
    made, and roll it all back."""
    result: dict = {}
    try:
        with transaction.atomic():
            load()
            result = {"tables": canonical_tables(), "revenue": revenue_per_year()}
            raise _Rollback
    except _Rollback:
        pass
    return result
